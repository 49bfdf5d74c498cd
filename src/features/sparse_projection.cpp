// The sparse Johnson–Lindenstrauss projection (projector.h: the matrix).

#include "sparse_projection.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "ntks/util/error.h"
#include "projection_hash.h"

namespace ntks::features::sparse_jl {
namespace {

// Rows generated at once: their columns and signs stay in L2 cache
// (4096 × s × 8 bytes) while every sample of the batch reads them.
constexpr int64_t kBlockRows = 4096;

// The nonzeros of rows [first_row, first_row + len): entry r·s + k is the
// column of row r in block k and its sign times `value`.
void generate(uint64_t seed, int64_t dim, int64_t s, uint64_t first_row, int64_t len, float value,
              int32_t* column, float* weight) {
  const uint64_t seed_key = mix64(seed);
  const auto width = static_cast<uint64_t>(dim / s);
  at::parallel_for(0, len, 256, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const uint64_t key = row_key(seed_key, first_row + static_cast<uint64_t>(r));
      for (int64_t k = 0; k < s; ++k) {
        const uint64_t word = mix64(key + static_cast<uint64_t>(k));
        // ⌊word · width / 2^64⌋: the high bits pick the column, bit 0 the sign.
        const auto offset = static_cast<uint64_t>((static_cast<unsigned __int128>(word) * width) >> 64);
        column[r * s + k] = static_cast<int32_t>(static_cast<uint64_t>(k) * width + offset);
        weight[r * s + k] = (word & 1u) ? -value : value;
      }
    }
  });
}

struct Nonzeros {
  std::vector<int32_t> column;
  std::vector<float> weight;
  Nonzeros(int64_t rows, int64_t s)
      : column(static_cast<size_t>(rows * s)), weight(static_cast<size_t>(rows * s)) {}
};

void check(int64_t dim, int64_t s) {
  NTKS_CHECK(s >= 1 && dim % s == 0, "sparse projection: sparsity {} must divide dim {}", s, dim);
  NTKS_CHECK(dim < (int64_t{1} << 31), "sparse projection: dim {} over 2^31", dim);
}

}  // namespace

void fill_rows(uint64_t seed, int64_t dim, int64_t s, uint64_t first_row, int64_t rows, float* dst) {
  check(dim, s);
  std::fill(dst, dst + rows * dim, 0.0f);
  Nonzeros nz(rows, s);
  generate(seed, dim, s, first_row, rows, static_cast<float>(std::sqrt(static_cast<double>(dim) / s)),
           nz.column.data(), nz.weight.data());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < s; ++k) dst[r * dim + nz.column[r * s + k]] = nz.weight[r * s + k];
}

void accumulate(uint64_t seed, int64_t dim, int64_t s, const at::Tensor& g, uint64_t first_row, at::Tensor& out) {
  check(dim, s);
  if (!(g.device().is_cpu() && out.device().is_cpu() && out.scalar_type() == at::kFloat && out.is_contiguous())) {
    accumulate_tensor_ops(seed, dim, s, g, first_row, out);
    return;
  }
  const at::Tensor gf = g.to(at::kFloat).contiguous();
  const int64_t batch = gf.size(0), n = gf.size(1);
  const float* gp = gf.data_ptr<float>();
  float* op = out.data_ptr<float>();
  // ĝ = Pᵀg/√d with P's nonzeros ±√(d/s): each coordinate adds ±g/√s.
  const auto value = static_cast<float>(1.0 / std::sqrt(static_cast<double>(s)));
  Nonzeros nz(std::min(kBlockRows, n), s);
  for (int64_t begin = 0; begin < n; begin += kBlockRows) {
    const int64_t len = std::min(kBlockRows, n - begin);
    generate(seed, dim, s, first_row + static_cast<uint64_t>(begin), len, value, nz.column.data(), nz.weight.data());
    // One task per (sample, column block): block k's nonzeros land only in
    // its own columns, so tasks never share an output and each column sums
    // its rows in order whatever the thread count.
    at::parallel_for(0, batch * s, 1, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t b = t / s, k = t % s;
        const float* gb = gp + b * n + begin;
        float* ob = op + b * dim;
        const int32_t* col = nz.column.data() + k;
        const float* w = nz.weight.data() + k;
        for (int64_t r = 0; r < len; ++r) ob[col[r * s]] += w[r * s] * gb[r];
      }
    });
  }
}

void accumulate_tensor_ops(uint64_t seed, int64_t dim, int64_t s, const at::Tensor& g, uint64_t first_row,
                           at::Tensor& out) {
  check(dim, s);
  const int64_t n = g.size(1);
  const auto value = static_cast<float>(1.0 / std::sqrt(static_cast<double>(s)));
  const auto on_out = at::TensorOptions().device(out.device());
  // Larger blocks than the CPU loop's: each block is a few device launches.
  const int64_t block = 16 * kBlockRows;
  Nonzeros nz(std::min(block, n), s);
  for (int64_t begin = 0; begin < n; begin += block) {
    const int64_t len = std::min(block, n - begin);
    generate(seed, dim, s, first_row + static_cast<uint64_t>(begin), len, value, nz.column.data(), nz.weight.data());
    const at::Tensor column = at::from_blob(nz.column.data(), {len * s}, at::kInt).to(on_out.dtype(at::kLong));
    const at::Tensor weight = at::from_blob(nz.weight.data(), {len * s}, at::kFloat).to(on_out.dtype(out.scalar_type()));
    const at::Tensor row = at::arange(len, on_out.dtype(at::kLong)).repeat_interleave(s);
    const at::Tensor gs = g.narrow(1, begin, len).to(out.scalar_type());
    out.index_add_(1, column, gs.index_select(1, row) * weight);
  }
}

}  // namespace ntks::features::sparse_jl
