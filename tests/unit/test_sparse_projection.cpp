// The sparse JL projection (grads.projection: sparse): the matrix that
// projector.h documents, checked against a transcription of that text; its
// structure; the scatter loop against the dense product with its own rows,
// the torch-ops path and any thread count; and the JL property at d = 1024 to
// 8192 within the bound the diagnostics report (diagnose/kernel_stats.h).

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "features/sparse_projection.h"
#include "jl_check.h"
#include "ntks/config/load.h"
#include "ntks/features/projector.h"
#include "ntks/util/error.h"

using ntks::features::mix64;
using ntks::features::Projector;

namespace {

// Column and sign of row i's nonzero in block k, written from projector.h.
std::pair<int64_t, float> documented_entry(uint64_t seed, int64_t d, int64_t s, uint64_t i, int64_t k) {
  const uint64_t key = mix64(mix64(seed) ^ mix64(i));
  const uint64_t word = mix64(key + static_cast<uint64_t>(k));
  const auto w = static_cast<uint64_t>(d / s);
  const auto col = static_cast<int64_t>(k * w + static_cast<uint64_t>((static_cast<unsigned __int128>(word) * w) >> 64));
  return {col, ((word & 1u) ? -1.0f : 1.0f) * static_cast<float>(std::sqrt(double(d) / s))};
}

}  // namespace

TEST(SparseProjection, RowsAreTheDocumentedMatrix) {
  const int64_t d = 96, s = 4;
  const Projector p = Projector::sparse(42, d, s);
  EXPECT_EQ(p.kind(), ntks::config::Projection::sparse);
  const at::Tensor rows = p.rows(1000, 50);
  for (int64_t r = 0; r < 50; ++r) {
    // Exactly one nonzero per block of d / s columns, where the text puts it.
    EXPECT_EQ(rows[r].ne(0).sum().item<int64_t>(), s);
    for (int64_t k = 0; k < s; ++k) {
      const auto [col, value] = documented_entry(42, d, s, 1000 + r, k);
      EXPECT_GE(col, k * d / s);
      EXPECT_LT(col, (k + 1) * d / s);
      EXPECT_EQ(rows[r][col].item<float>(), value) << r << " " << k;
    }
  }
  // Any block of rows is the same rows generated alone; seeds differ.
  EXPECT_TRUE(p.rows(1017, 3).equal(rows.narrow(0, 17, 3)));
  EXPECT_FALSE(Projector::sparse(43, d, s).rows(1000, 50).equal(rows));
}

TEST(SparseProjection, SignsBalancedAndColumnsSpread) {
  const int64_t d = 64, s = 2, n = 20000;
  const at::Tensor rows = Projector::sparse(7, d, s).rows(0, n);
  const at::Tensor nonzero = rows.ne(0).to(at::kDouble);
  // Column counts: n·s/d = 625 expected each; a stuck hash would pile them up.
  const at::Tensor per_column = nonzero.sum(0);
  EXPECT_LT((per_column - 625).abs().max().item<double>(), 5 * std::sqrt(625.0));
  // Signs: as many + as -.
  const double plus = rows.gt(0).sum().item<double>(), total = static_cast<double>(n * s);
  EXPECT_LT(std::abs(plus / total - 0.5), 4 * 0.5 / std::sqrt(total));
}

TEST(SparseProjection, AccumulateEqualsDenseProductForAnyBatchAndSlicing) {
  const int64_t d = 256, n = 9000;  // over two of the loop's 4096-row blocks
  for (int64_t s : {1, 4, 8}) {
    const Projector p = Projector::sparse(5, d, s);
    const at::Tensor dense = p.rows(300, n).to(at::kDouble);
    for (int64_t batch : {1, 3, 8}) {
      at::Tensor g = torch::randn({batch, n});
      at::Tensor out = torch::randn({batch, d});
      const at::Tensor expected =
          out.to(at::kDouble) + torch::matmul(g.to(at::kDouble), dense) / std::sqrt(static_cast<double>(d));
      at::Tensor split = out.clone();
      p.accumulate(g, 300, out);
      EXPECT_TRUE(torch::allclose(out.to(at::kDouble), expected, 1e-5, 1e-5)) << "s=" << s << " batch=" << batch;
      p.accumulate(g.narrow(1, 0, 4100), 300, split);
      p.accumulate(g.narrow(1, 4100, n - 4100), 4400, split);
      EXPECT_TRUE(torch::allclose(split, out, 1e-5, 1e-5)) << "s=" << s << " batch=" << batch;
    }
  }
}

TEST(SparseProjection, SameBitsOnAnyThreadCountAndThroughTensorOps) {
  const int64_t d = 512, s = 4;
  const at::Tensor g = torch::randn({5, 10000});
  const int threads = at::get_num_threads();
  at::Tensor one = torch::zeros({5, d}), two = torch::zeros({5, d});
  at::set_num_threads(1);
  Projector::sparse(11, d, s).accumulate(g, 77, one);
  at::set_num_threads(std::max(2, threads));
  Projector::sparse(11, d, s).accumulate(g, 77, two);
  at::set_num_threads(threads);
  EXPECT_TRUE(one.equal(two));
  // The path other devices take (index_add_), here on the CPU.
  at::Tensor ops = torch::zeros({5, d});
  ntks::features::sparse_jl::accumulate_tensor_ops(11, d, s, g, 77, ops);
  EXPECT_TRUE(torch::allclose(ops, one, 1e-5, 1e-5));
  // A non-contiguous or double output takes that path too, with the same values.
  at::Tensor dbl = torch::zeros({5, d}, at::kDouble);
  Projector::sparse(11, d, s).accumulate(g, 77, dbl);
  EXPECT_TRUE(torch::allclose(dbl.to(at::kFloat), one, 1e-5, 1e-5));
}

// As for the dense projection (jl_check.h), on heavy-tailed vectors.
TEST(SparseProjection, JohnsonLindenstraussAtPaperDimensions) {
  const ntks::testing::JlPairs v = ntks::testing::jl_pairs(6000, 24, 321, /*heavy_tail=*/true);
  for (int64_t d : {1024, 2048, 4096, 8192})
    for (int64_t s : {4, 8}) {
      at::Tensor out = torch::zeros({v.both.size(0), d});
      Projector::sparse(2024, d, s).accumulate(v.both, 7, out);
      ntks::testing::expect_jl(out, v, d, "d=" + std::to_string(d) + " s=" + std::to_string(s));
    }
}

TEST(SparseProjection, ConfigNamesTheKindAndChecksSparsity) {
  ntks::config::Config cfg;
  cfg.grads.projection = ntks::config::Projection::sparse;
  cfg.grads.sparsity = 8;
  const Projector p(cfg.grads, 1024);
  EXPECT_EQ(p.kind(), ntks::config::Projection::sparse);
  EXPECT_EQ(p.sparsity(), 8);
  EXPECT_TRUE(p.rows(0, 4).equal(Projector::sparse(cfg.grads.seed, 1024, 8).rows(0, 4)));
  cfg.grads.projection = ntks::config::Projection::rademacher;
  EXPECT_TRUE(Projector(cfg.grads, 128).rows(5, 2).equal(Projector(cfg.grads.seed, 128).rows(5, 2)));
  cfg.grads.projection = ntks::config::Projection::sparse;
  cfg.grads.sparsity = 3;
  cfg.grads.dim = 1024;
  try {
    ntks::config::validate(cfg);
    FAIL() << "sparsity 3 of dim 1024 accepted";
  } catch (const ntks::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("grads.sparsity"), std::string::npos) << e.what();
  }
  EXPECT_ANY_THROW(Projector::sparse(1, 1024, 3));
}
