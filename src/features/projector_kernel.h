#pragma once
// The CUDA kernel of the Rademacher projection (projector_kernel.cu), behind a
// torch-free interface so nvcc never parses torch. Built only in CUDA builds;
// projector_cuda.cpp is its caller.

#include <cuda_runtime.h>

#include <cstdint>

namespace ntks::features::cuda {

/// Columns per thread block (4 words of 64 signs): one thread per column.
inline constexpr int kTileColumns = 256;
/// Largest batch one launch handles; larger batches are cut into groups.
inline constexpr int kMaxBatch = 16;

/// partial[c, b, j] = scale · Σ_{i in chunk c} g[b, i] · P[first_row + i, j]
/// for b < batch (≤ kMaxBatch), j < dim (a multiple of 64), chunk c covering
/// rows [c · rows_per_chunk, min(n, (c+1) · rows_per_chunk)) of g. The signs
/// come from the same counter-based generator as the CPU path (projector.h),
/// keyed by seed_key = mix64(seed). g: [batch, g_stride] fp32, row-major;
/// partial: [chunks, batch, dim] fp32. Each output is one thread's sum in row
/// order: no atomics, so the result is the same on every run.
cudaError_t launch_sign_project(const float* g, int64_t g_stride, int batch, int64_t n, uint64_t first_row,
                                uint64_t seed_key, int64_t dim, float scale, int64_t chunks, int64_t rows_per_chunk,
                                float* partial, cudaStream_t stream);

}  // namespace ntks::features::cuda
