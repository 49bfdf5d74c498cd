// Fused sign generation and projection on the GPU: the ±1 matrix is never
// written to memory. Generating P as floats and calling a GEMM moves
// 8 bytes per sign (write, then read) and measured 98% of a grads step on an
// H100 when the signs came from the host; here each 64-sign word is hashed
// once per block into shared memory and meets the batch's gradients there.

#include "projector_kernel.h"

namespace ntks::features::cuda {
namespace {

// Must equal features::mix64 (projector.cpp) bit for bit.
__device__ __forceinline__ uint64_t mix64(uint64_t x) {
  uint64_t z = x + 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

constexpr int kTileWords = kTileColumns / 64;
constexpr int kRowsPerStep = kTileColumns / kTileWords;  // one (row, word) pair per thread

template <int NB>
__global__ void __launch_bounds__(kTileColumns)
    sign_project(const float* __restrict__ g, int64_t g_stride, int batch, int64_t n, uint64_t first_row,
                 uint64_t seed_key, int64_t dim, float scale, int64_t rows_per_chunk, float* __restrict__ partial) {
  __shared__ uint64_t keys[kRowsPerStep];
  __shared__ uint64_t bits[kRowsPerStep][kTileWords];
  __shared__ __align__(16) float gs[NB][kRowsPerStep];
  const int t = threadIdx.x;
  const int64_t words = dim / 64;
  const int64_t word0 = static_cast<int64_t>(blockIdx.x) * kTileWords;
  const int64_t col = word0 * 64 + t;
  const int64_t chunk = blockIdx.y;
  const int64_t r_begin = chunk * rows_per_chunk;
  const int64_t r_end = min(n, r_begin + rows_per_chunk);
  const int my_word = t / 64, my_bit = t % 64;
  float acc[NB];
#pragma unroll
  for (int b = 0; b < NB; ++b) acc[b] = 0.f;
  for (int64_t r0 = r_begin; r0 < r_end; r0 += kRowsPerStep) {
    const int len = static_cast<int>(min(static_cast<int64_t>(kRowsPerStep), r_end - r0));
    if (t < kRowsPerStep) keys[t] = t < len ? mix64(seed_key ^ mix64(first_row + static_cast<uint64_t>(r0 + t))) : 0;
    // Rows past `len` get gradient 0, so the 4-row steps below need no tail.
    for (int k = t; k < NB * kRowsPerStep; k += kTileColumns) {
      const int b = k / kRowsPerStep, r = k % kRowsPerStep;
      gs[b][r] = (b < batch && r < len) ? g[b * g_stride + r0 + r] : 0.f;
    }
    __syncthreads();
    {
      const int r = t / kTileWords, w = t % kTileWords;
      bits[r][w] = (r < len && word0 + w < words) ? mix64(keys[r] + static_cast<uint64_t>(word0 + w)) : 0;
    }
    __syncthreads();
    // Four rows at a time: one ±1.0f per row from the sign bit (0x3f800000 is
    // 1.0f), then one FMA per sample and row, the gradients read as float4.
    // fma(g, ±1, acc) is exactly acc ± g, as on the CPU.
    for (int r = 0; r < len; r += 4) {
      float s[4];
#pragma unroll
      for (int k = 0; k < 4; ++k)
        s[k] = __uint_as_float(0x3f800000u | (static_cast<unsigned>((bits[r + k][my_word] >> my_bit) & 1u) << 31));
#pragma unroll
      for (int b = 0; b < NB; ++b) {
        const float4 gv = *reinterpret_cast<const float4*>(&gs[b][r]);
        acc[b] = fmaf(gv.x, s[0], acc[b]);
        acc[b] = fmaf(gv.y, s[1], acc[b]);
        acc[b] = fmaf(gv.z, s[2], acc[b]);
        acc[b] = fmaf(gv.w, s[3], acc[b]);
      }
    }
    __syncthreads();
  }
  if (col < dim)
    for (int b = 0; b < batch; ++b) partial[(chunk * batch + b) * dim + col] = acc[b] * scale;
}

}  // namespace

cudaError_t launch_sign_project(const float* g, int64_t g_stride, int batch, int64_t n, uint64_t first_row,
                                uint64_t seed_key, int64_t dim, float scale, int64_t chunks, int64_t rows_per_chunk,
                                float* partial, cudaStream_t stream) {
  if (batch < 1 || batch > kMaxBatch || dim % 64 != 0 || chunks < 1) return cudaErrorInvalidValue;
  const dim3 grid(static_cast<unsigned>((dim + kTileColumns - 1) / kTileColumns), static_cast<unsigned>(chunks));
  // The smallest instantiation that holds the batch: unused lanes cost FMAs.
  if (batch == 1)
    sign_project<1><<<grid, kTileColumns, 0, stream>>>(g, g_stride, batch, n, first_row, seed_key, dim, scale,
                                                       rows_per_chunk, partial);
  else if (batch == 2)
    sign_project<2><<<grid, kTileColumns, 0, stream>>>(g, g_stride, batch, n, first_row, seed_key, dim, scale,
                                                       rows_per_chunk, partial);
  else if (batch <= 4)
    sign_project<4><<<grid, kTileColumns, 0, stream>>>(g, g_stride, batch, n, first_row, seed_key, dim, scale,
                                                       rows_per_chunk, partial);
  else if (batch <= 8)
    sign_project<8><<<grid, kTileColumns, 0, stream>>>(g, g_stride, batch, n, first_row, seed_key, dim, scale,
                                                       rows_per_chunk, partial);
  else
    sign_project<16><<<grid, kTileColumns, 0, stream>>>(g, g_stride, batch, n, first_row, seed_key, dim, scale,
                                                        rows_per_chunk, partial);
  return cudaGetLastError();
}

}  // namespace ntks::features::cuda
