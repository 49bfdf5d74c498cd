// Counter-based random projection, generated block by block: the dense
// Rademacher kind here, the sparse kind in sparse_projection.cpp.

#include "ntks/features/projector.h"

#include <fmt/ranges.h>
#include <algorithm>
#include <cmath>
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define NTKS_PROJECTOR_AVX2 1
#endif

#include "ntks/util/error.h"
#include "projection_hash.h"
#include "projector_device.h"
#include "sparse_projection.h"

namespace ntks::features {

uint64_t mix64(uint64_t x) {
  uint64_t z = x + 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

namespace {

// The 8 floats (±1.0f) of each byte value, bit k -> column k: expanding a
// word of signs is then 8 copies of 32 bytes, several times faster than a
// per-bit loop (the generation runs for |LoRA| × d signs on every batch).
struct SignTable {
  alignas(64) float v[256][8];
  SignTable() {
    for (int byte = 0; byte < 256; ++byte)
      for (int k = 0; k < 8; ++k) v[byte][k] = ((byte >> k) & 1) ? -1.0f : 1.0f;
  }
};
const SignTable& sign_table() {
  static const SignTable table;
  return table;
}

// Writes P[i, 0:dim] (±1.0f) into dst.
void fill_row(uint64_t seed_key, uint64_t i, int64_t dim, float* dst) {
  const uint64_t key = row_key(seed_key, i);
  const SignTable& table = sign_table();
  const int64_t full_words = dim / 64;
  for (int64_t w = 0; w < full_words; ++w) {
    uint64_t bits = mix64(key + static_cast<uint64_t>(w));
    float* out = dst + w * 64;
    for (int k = 0; k < 8; ++k, bits >>= 8) std::memcpy(out + 8 * k, table.v[bits & 0xFF], 8 * sizeof(float));
  }
  if (full_words * 64 < dim) {
    const uint64_t bits = mix64(key + static_cast<uint64_t>(full_words));
    for (int64_t j = full_words * 64; j < dim; ++j) dst[j] = ((bits >> (j % 64)) & 1u) ? -1.0f : 1.0f;
  }
}

// Rows [first_row, first_row + rows) of P into dst [rows, dim].
void fill_rows(uint64_t seed, uint64_t first_row, int64_t rows, int64_t dim, float* dst) {
  const uint64_t seed_key = mix64(seed);
  at::parallel_for(0, rows, 8, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) fill_row(seed_key, first_row + static_cast<uint64_t>(r), dim, dst + r * dim);
  });
}


#ifdef NTKS_PROJECTOR_AVX2
// The fused path: out[b, :] += scale · Σ_i g[b, i] P[i, :] without writing P
// as floats. A small matmul (batch rows × a block of rows) through BLAS
// spends as much time packing P as multiplying; here the signs of a block
// are generated once as bits (64 columns per word) and reused by every
// sample of the batch: each row's sign vectors come straight from the bits
// into registers and meet several samples' broadcast gradients in FMAs. The
// library is built for plain x86-64, so the kernels are chosen at run time:
// AVX-512 (a 16-bit mask selects +1/-1 per column: no table, 32 registers
// hold 8 samples × 32 columns) where the CPU has it, else AVX2 + FMA (a
// byte -> 8 floats table, 4 samples × 16 columns). Both add g·(±1) in the
// same order (row by row, one FMA each), so they give the same bits.
bool have_avx2_fma() {
  static const bool ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return ok;
}
bool have_avx512() {
  static const bool ok = __builtin_cpu_supports("avx512f");
  return ok;
}
bool have_avx512dq() {
  static const bool ok = __builtin_cpu_supports("avx512dq");
  return ok;
}

// The signs of one block: word w of block row r at bits[w * rows + r], so a
// kernel walks one column word down the rows contiguously.
struct SignBlock {
  const uint64_t* bits;
  int64_t rows;
  const uint64_t* column_word(int64_t col) const { return bits + (col / 64) * rows; }
};

// Columns [col, col + 16) of out rows [0, NB) += scale · g[0:NB, 0:rows] · P[block rows, col:col+16].
template <int NB>
__attribute__((target("avx2,fma"))) void sign_gemm_16(const float* g, int64_t g_stride, const SignBlock& block,
                                                      int64_t col, float scale, float* out, int64_t out_stride) {
  const SignTable& table = sign_table();
  __m256 acc[NB][2];
  for (int b = 0; b < NB; ++b) acc[b][0] = acc[b][1] = _mm256_setzero_ps();
  const uint64_t* words = block.column_word(col);
  const int shift = static_cast<int>(col % 64);
  for (int64_t i = 0; i < block.rows; ++i) {
    const uint64_t word = words[i] >> shift;
    const __m256 s0 = _mm256_load_ps(table.v[word & 0xFF]);
    const __m256 s1 = _mm256_load_ps(table.v[(word >> 8) & 0xFF]);
    for (int b = 0; b < NB; ++b) {
      const __m256 gb = _mm256_broadcast_ss(g + b * g_stride + i);
      acc[b][0] = _mm256_fmadd_ps(gb, s0, acc[b][0]);
      acc[b][1] = _mm256_fmadd_ps(gb, s1, acc[b][1]);
    }
  }
  const __m256 sc = _mm256_set1_ps(scale);
  for (int b = 0; b < NB; ++b) {
    float* o = out + b * out_stride + col;
    _mm256_storeu_ps(o, _mm256_fmadd_ps(acc[b][0], sc, _mm256_loadu_ps(o)));
    _mm256_storeu_ps(o + 8, _mm256_fmadd_ps(acc[b][1], sc, _mm256_loadu_ps(o + 8)));
  }
}

// Columns [col, col + 32) of out rows [0, NB) += scale · g[0:NB, 0:rows] · P[block rows, col:col+32].
template <int NB>
__attribute__((target("avx512f"))) void sign_gemm_32(const float* g, int64_t g_stride, const SignBlock& block,
                                                     int64_t col, float scale, float* out, int64_t out_stride) {
  __m512 acc[NB][2];
  for (int b = 0; b < NB; ++b) acc[b][0] = acc[b][1] = _mm512_setzero_ps();
  const __m512 plus = _mm512_set1_ps(1.0f), minus = _mm512_set1_ps(-1.0f);
  const uint64_t* words = block.column_word(col);
  const int shift = static_cast<int>(col % 64);
  for (int64_t i = 0; i < block.rows; ++i) {
    const uint64_t word = words[i] >> shift;
    // bit k set: column k is -1
    const __m512 s0 = _mm512_mask_blend_ps(static_cast<__mmask16>(word), plus, minus);
    const __m512 s1 = _mm512_mask_blend_ps(static_cast<__mmask16>(word >> 16), plus, minus);
    for (int b = 0; b < NB; ++b) {
      const __m512 gb = _mm512_set1_ps(g[b * g_stride + i]);
      acc[b][0] = _mm512_fmadd_ps(gb, s0, acc[b][0]);
      acc[b][1] = _mm512_fmadd_ps(gb, s1, acc[b][1]);
    }
  }
  const __m512 sc = _mm512_set1_ps(scale);
  for (int b = 0; b < NB; ++b) {
    float* o = out + b * out_stride + col;
    _mm512_storeu_ps(o, _mm512_fmadd_ps(acc[b][0], sc, _mm512_loadu_ps(o)));
    _mm512_storeu_ps(o + 16, _mm512_fmadd_ps(acc[b][1], sc, _mm512_loadu_ps(o + 16)));
  }
}

using SignKernel = void (*)(const float*, int64_t, const SignBlock&, int64_t, float, float*, int64_t);

// The words of block rows [r0, r1) (rows first_row + r of P) into bits
// (SignBlock layout, `len` rows): word(i, w) = mix(row_key(i) + w).
void generate_words(uint64_t seed_key, uint64_t first_row, int64_t r0, int64_t r1, int64_t len, int64_t words,
                    uint64_t* bits) {
  for (int64_t r = r0; r < r1; ++r) {
    const uint64_t key = row_key(seed_key, first_row + static_cast<uint64_t>(r));
    for (int64_t w = 0; w < words; ++w) bits[w * len + r] = mix64(key + static_cast<uint64_t>(w));
  }
}

// mix64 of 8 lanes (AVX-512DQ has the 64-bit multiply).
__attribute__((target("avx512f,avx512dq"))) inline __m512i mix64x8(__m512i x) {
  __m512i z = _mm512_add_epi64(x, _mm512_set1_epi64(static_cast<long long>(0x9E3779B97F4A7C15ULL)));
  z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 30)),
                         _mm512_set1_epi64(static_cast<long long>(0xBF58476D1CE4E5B9ULL)));
  z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 27)),
                         _mm512_set1_epi64(static_cast<long long>(0x94D049BB133111EBULL)));
  return _mm512_xor_si512(z, _mm512_srli_epi64(z, 31));
}

// generate_words, 8 rows at a time: the same words (the generation takes
// about as long as the multiplication when done one word at a time).
__attribute__((target("avx512f,avx512dq"))) void generate_words_x8(uint64_t seed_key, uint64_t first_row, int64_t r0,
                                                                 int64_t r1, int64_t len, int64_t words,
                                                                 uint64_t* bits) {
  const __m512i lane = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
  const __m512i seed = _mm512_set1_epi64(static_cast<long long>(seed_key));
  int64_t r = r0;
  for (; r + 8 <= r1; r += 8) {
    const __m512i i = _mm512_add_epi64(_mm512_set1_epi64(static_cast<long long>(first_row + static_cast<uint64_t>(r))), lane);
    const __m512i key = mix64x8(_mm512_xor_si512(seed, mix64x8(i)));
    for (int64_t w = 0; w < words; ++w)
      _mm512_storeu_si512(bits + w * len + r, mix64x8(_mm512_add_epi64(key, _mm512_set1_epi64(w))));
  }
  generate_words(seed_key, first_row, r, r1, len, words, bits);
}

// out [B, dim] += scale · g [B, n] · P[first_row : first_row + n, :], dim % 64 == 0, all contiguous fp32 on the CPU.
void accumulate_fused(uint64_t seed, const float* g, int64_t batch, int64_t n, uint64_t first_row, int64_t dim,
                      int64_t block_rows, float scale, float* out) {
  const uint64_t seed_key = mix64(seed);
  const int64_t words = dim / 64;
  // Samples per kernel call and columns per chunk of each instruction set.
  const bool wide = have_avx512();
  const int64_t max_nb = wide ? 8 : 4, chunk = wide ? 32 : 16;
  static const SignKernel k512[8] = {sign_gemm_32<1>, sign_gemm_32<2>, sign_gemm_32<3>, sign_gemm_32<4>,
                                     sign_gemm_32<5>, sign_gemm_32<6>, sign_gemm_32<7>, sign_gemm_32<8>};
  static const SignKernel k256[4] = {sign_gemm_16<1>, sign_gemm_16<2>, sign_gemm_16<3>, sign_gemm_16<4>};
  const SignKernel* kernels = wide ? k512 : k256;
  const bool wide_words = wide && have_avx512dq();
  std::vector<uint64_t> bits(static_cast<size_t>(std::min(block_rows, n) * words));
  for (int64_t begin = 0; begin < n; begin += block_rows) {
    const int64_t len = std::min(block_rows, n - begin);
    at::parallel_for(0, len, 16, [&](int64_t r0, int64_t r1) {
      (wide_words ? generate_words_x8 : generate_words)(seed_key, first_row + static_cast<uint64_t>(begin), r0, r1, len,
                                                        words, bits.data());
    });
    const SignBlock block{bits.data(), len};
    at::parallel_for(0, dim / chunk, 4, [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c)
        for (int64_t b = 0; b < batch; b += max_nb) {
          const int64_t nb = std::min(max_nb, batch - b);
          kernels[nb - 1](g + b * n + begin, n, block, c * chunk, scale, out + b * dim, dim);
        }
    });
  }
}
#endif

}  // namespace

int rademacher_sign(uint64_t seed, uint64_t i, uint64_t j) {
  const uint64_t bits = mix64(row_key(mix64(seed), i) + j / 64);
  return ((bits >> (j % 64)) & 1u) ? -1 : 1;
}

Projector::Projector(uint64_t seed, int64_t dim, int64_t block_rows)
    : seed_(seed), dim_(dim), block_rows_(block_rows) {
  NTKS_CHECK(dim > 0 && block_rows > 0, "projector dim {} and block rows {} must be positive", dim, block_rows);
}

Projector Projector::sparse(uint64_t seed, int64_t dim, int64_t sparsity) {
  NTKS_CHECK(sparsity >= 1 && dim % sparsity == 0, "sparse projection: sparsity {} must divide dim {}", sparsity, dim);
  Projector p(seed, dim);
  p.kind_ = config::Projection::sparse;
  p.sparsity_ = sparsity;
  return p;
}

Projector::Projector(const config::GradsConfig& grads, int64_t dim)
    : Projector(grads.projection == config::Projection::sparse
                    ? sparse(static_cast<uint64_t>(grads.seed), dim, grads.sparsity)
                    : Projector(static_cast<uint64_t>(grads.seed), dim)) {}

at::Tensor Projector::rows(uint64_t first_row, int64_t rows, at::Device device) const {
  at::Tensor p = at::empty({rows, dim_}, at::TensorOptions().dtype(at::kFloat));
  if (kind_ == config::Projection::sparse)
    sparse_jl::fill_rows(seed_, dim_, sparsity_, first_row, rows, p.data_ptr<float>());
  else
    fill_rows(seed_, first_row, rows, dim_, p.data_ptr<float>());
  return device.is_cpu() ? p : p.to(device);
}

void Projector::accumulate(const at::Tensor& g, uint64_t first_row, at::Tensor& out) const {
  NTKS_CHECK(g.dim() == 2 && out.dim() == 2 && g.size(0) == out.size(0) && out.size(1) == dim_,
             "projector: g [{}] and out [{}] do not match dim {}", fmt::join(g.sizes(), ", "),
             fmt::join(out.sizes(), ", "), dim_);
  const double scale = 1.0 / std::sqrt(static_cast<double>(dim_));
  const int64_t n = g.size(1);
  if (n == 0) return;
  if (kind_ == config::Projection::sparse) {
    sparse_jl::accumulate(seed_, dim_, sparsity_, g, first_row, out);
    return;
  }
  // On a GPU the signs are generated inside the projection kernel (never as a
  // matrix in memory); the CPU paths below serve CPU tensors.
  if (accumulate_on_device(g, first_row, mix64(seed_), dim_, scale, out)) return;
#ifdef NTKS_PROJECTOR_AVX2
  if (out.device().is_cpu() && g.device().is_cpu() && dim_ % 64 == 0 && out.scalar_type() == at::kFloat &&
      out.is_contiguous() && have_avx2_fma()) {
    const at::Tensor gf = g.to(at::kFloat).contiguous();
    accumulate_fused(seed_, gf.data_ptr<float>(), g.size(0), n, first_row, dim_, block_rows_,
                     static_cast<float>(scale), out.data_ptr<float>());
    return;
  }
#endif
  // One block buffer for the whole slice: a fresh allocation per block would
  // page-fault its way through |LoRA| × d floats on every batch.
  at::Tensor block = at::empty({std::min(block_rows_, n), dim_}, at::TensorOptions().dtype(at::kFloat));
  const at::Tensor gf = g.to(at::kFloat);
  for (int64_t begin = 0; begin < n; begin += block_rows_) {
    const int64_t len = std::min(block_rows_, n - begin);
    at::Tensor p = block.narrow(0, 0, len);
    fill_rows(seed_, first_row + static_cast<uint64_t>(begin), len, dim_, p.data_ptr<float>());
    // Generated on the CPU (see projector.h), multiplied where `out` lives.
    out.addmm_(gf.narrow(1, begin, len), out.device().is_cpu() ? p : p.to(out.device(), /*non_blocking=*/false),
               /*beta=*/1, /*alpha=*/scale);
  }
}

}  // namespace ntks::features
