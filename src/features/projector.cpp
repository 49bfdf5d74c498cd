// Counter-based Rademacher projection, generated block by block.

#include "ntks/features/projector.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define NTKS_PROJECTOR_AVX2 1
#endif

#include "ntks/util/error.h"

namespace ntks::features {

uint64_t mix64(uint64_t x) {
  uint64_t z = x + 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

namespace {

uint64_t row_key(uint64_t seed_key, uint64_t i) { return mix64(seed_key ^ mix64(i)); }

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
// as floats. A small matmul (batch rows × a 128-row block) through BLAS
// spends as much time packing P as multiplying; here each row's 16-column
// sign vectors come straight from the byte table into registers and meet 4
// samples' broadcast gradients in 8 FMAs. Needs AVX2 + FMA, chosen at run
// time (the library is built for plain x86-64).
bool have_avx2_fma() {
  static const bool ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return ok;
}

// Columns [col, col + 16) of out rows [0, NB) += scale · g[0:NB, 0:rows] · P[block rows, col:col+16].
template <int NB>
__attribute__((target("avx2,fma"))) void sign_gemm_16(const float* g, int64_t g_stride, int64_t rows,
                                                      const uint64_t* bits, int64_t words, int64_t col,
                                                      float scale, float* out, int64_t out_stride) {
  const SignTable& table = sign_table();
  __m256 acc[NB][2];
  for (int b = 0; b < NB; ++b) acc[b][0] = acc[b][1] = _mm256_setzero_ps();
  const int64_t w = col / 64;
  const int shift = static_cast<int>(col % 64);
  for (int64_t i = 0; i < rows; ++i) {
    const uint64_t word = bits[i * words + w] >> shift;
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

// out [B, dim] += scale · g [B, n] · P[first_row : first_row + n, :], dim % 64 == 0, all contiguous fp32 on the CPU.
void accumulate_fused(uint64_t seed, const float* g, int64_t batch, int64_t n, uint64_t first_row, int64_t dim,
                      int64_t block_rows, float scale, float* out) {
  const uint64_t seed_key = mix64(seed);
  const int64_t words = dim / 64;
  std::vector<uint64_t> bits(static_cast<size_t>(std::min(block_rows, n) * words));
  for (int64_t begin = 0; begin < n; begin += block_rows) {
    const int64_t len = std::min(block_rows, n - begin);
    at::parallel_for(0, len, 16, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const uint64_t key = row_key(seed_key, first_row + static_cast<uint64_t>(begin + r));
        for (int64_t w = 0; w < words; ++w) bits[static_cast<size_t>(r * words + w)] = mix64(key + static_cast<uint64_t>(w));
      }
    });
    at::parallel_for(0, dim / 16, 8, [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c)
        for (int64_t b = 0; b < batch; b += 4) {
          const float* gb = g + b * n + begin;
          float* ob = out + b * dim;
          switch (std::min<int64_t>(4, batch - b)) {
            case 4: sign_gemm_16<4>(gb, n, len, bits.data(), words, c * 16, scale, ob, dim); break;
            case 3: sign_gemm_16<3>(gb, n, len, bits.data(), words, c * 16, scale, ob, dim); break;
            case 2: sign_gemm_16<2>(gb, n, len, bits.data(), words, c * 16, scale, ob, dim); break;
            default: sign_gemm_16<1>(gb, n, len, bits.data(), words, c * 16, scale, ob, dim); break;
          }
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

at::Tensor Projector::rows(uint64_t first_row, int64_t rows, at::Device device) const {
  at::Tensor p = at::empty({rows, dim_}, at::TensorOptions().dtype(at::kFloat));
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
