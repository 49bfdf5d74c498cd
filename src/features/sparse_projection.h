#pragma once
// The sparse JL kind of Projector (projector.h documents the matrix).

#include <torch/torch.h>

#include <cstdint>

namespace ntks::features::sparse_jl {

/// Rows [first_row, first_row + rows) of P as dense floats into dst [rows, dim]
/// (0 or ±√(dim / s)).
void fill_rows(uint64_t seed, int64_t dim, int64_t s, uint64_t first_row, int64_t rows, float* dst);

/// out[b, :] += g[b, :] · P[first_row : first_row + n, :] / √dim. CPU fp32
/// tensors take a scatter loop, others accumulate_tensor_ops.
void accumulate(uint64_t seed, int64_t dim, int64_t s, const at::Tensor& g, uint64_t first_row, at::Tensor& out);

/// The same through torch operations (index_select, index_add_) on any
/// device; the indices are generated on the CPU. On a GPU index_add_ adds
/// with atomics, so the last bits may differ from the CPU loop's.
void accumulate_tensor_ops(uint64_t seed, int64_t dim, int64_t s, const at::Tensor& g, uint64_t first_row,
                           at::Tensor& out);

}  // namespace ntks::features::sparse_jl
