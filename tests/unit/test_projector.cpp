// The Rademacher projector: the generator documented in projector.h pinned
// by known answers (computed by an independent Python transcription of that
// documentation), block independence, and the Johnson–Lindenstrauss property.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "jl_check.h"
#include "ntks/features/projector.h"

using ntks::features::mix64;
using ntks::features::Projector;
using ntks::features::rademacher_sign;

TEST(Projector, Mix64IsSplitmix64) {
  // splitmix64's first outputs for state 0 and 1 (the reference sequence).
  EXPECT_EQ(mix64(0), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(mix64(1), 0x910a2dec89025cc1ULL);
  EXPECT_EQ(mix64(42), 0xbdd732262feb6e95ULL);
}

TEST(Projector, KnownSigns) {
  struct Case {
    uint64_t seed, i, j;
    int sign;
  };
  const Case cases[] = {{42, 0, 0, -1},     {42, 0, 1, 1},          {42, 0, 63, -1}, {42, 0, 64, 1},
                        {42, 1, 0, 1},      {42, 12345, 8191, -1},  {7, 999999, 100, -1},
                        {42, 1ULL << 40, 5, -1}};
  for (const Case& c : cases) EXPECT_EQ(rademacher_sign(c.seed, c.i, c.j), c.sign) << c.seed << " " << c.i << " " << c.j;

  const float row3[16] = {-1, -1, -1, 1, -1, 1, 1, -1, 1, -1, 1, 1, 1, -1, -1, -1};
  Projector p(42, 16);
  at::Tensor r = p.rows(3, 1);
  ASSERT_EQ(r.sizes(), (std::vector<int64_t>{1, 16}));
  for (int j = 0; j < 16; ++j) EXPECT_EQ(r[0][j].item<float>(), row3[j]) << j;
}

TEST(Projector, KnownProjectedVector) {
  // g = 1..10 at parameter indices 100..109, d = 8.
  Projector p(42, 8);
  at::Tensor g = torch::arange(1, 11, torch::kFloat).unsqueeze(0);
  at::Tensor out = torch::zeros({1, 8});
  p.accumulate(g, 100, out);
  const double expected[8] = {21, -23, -41, 7, -9, 25, -9, 17};
  for (int j = 0; j < 8; ++j) EXPECT_NEAR(out[0][j].item<double>(), expected[j] / std::sqrt(8.0), 1e-5) << j;
}

TEST(Projector, RowsMatchSignsAndBiggerBlocks) {
  Projector p(9, 200);  // not a multiple of 64: a partial last word
  at::Tensor big = p.rows(1000, 300);
  EXPECT_TRUE(p.rows(1100, 37).equal(big.narrow(0, 100, 37)));
  EXPECT_TRUE(p.rows(1299, 1).equal(big.narrow(0, 299, 1)));
  for (uint64_t i : {1000u, 1077u, 1299u})
    for (uint64_t j : {0u, 63u, 64u, 127u, 128u, 199u})
      EXPECT_EQ(big[i - 1000][j].item<float>(), rademacher_sign(9, i, j)) << i << " " << j;
  // A wider projection shares its first columns: column j does not depend on d.
  Projector wide(9, 1000);
  EXPECT_TRUE(wide.rows(1000, 300).narrow(1, 0, 200).equal(big));
  // Balanced, and seeds differ.
  const double mean = big.mean().item<double>();
  EXPECT_LT(std::abs(mean), 5.0 / std::sqrt(static_cast<double>(big.numel())));
  EXPECT_FALSE(Projector(10, 200).rows(1000, 300).equal(big));
}

TEST(Projector, AccumulateOverSlicesEqualsWhole) {
  const int64_t n = 777, d = 320;
  Projector p(5, d, /*block_rows=*/100);
  at::Tensor g = torch::randn({5, n}, at::TensorOptions().dtype(at::kFloat));
  at::Tensor whole = torch::zeros({5, d});
  p.accumulate(g, 50, whole);
  at::Tensor split = torch::zeros({5, d});
  p.accumulate(g.narrow(1, 0, 301), 50, split);
  p.accumulate(g.narrow(1, 301, 6), 351, split);
  p.accumulate(g.narrow(1, 307, n - 307), 357, split);
  EXPECT_TRUE(torch::allclose(split, whole, 1e-5, 1e-5));
  // And equals the dense product with the generated rows.
  at::Tensor dense = torch::matmul(g.to(at::kDouble), p.rows(50, n).to(at::kDouble)) / std::sqrt(double(d));
  EXPECT_TRUE(torch::allclose(whole.to(at::kDouble), dense, 1e-4, 1e-4));
  // Block size does not change the result beyond rounding.
  at::Tensor other = torch::zeros({5, d});
  Projector(5, d, 7).accumulate(g, 50, other);
  EXPECT_TRUE(torch::allclose(other, whole, 1e-5, 1e-5));
}

// d a multiple of 64 takes the fused AVX2 path where the CPU has it, other d
// the generated-rows matmul: both equal the dense product for any batch size.
TEST(Projector, AccumulateEqualsDenseForEveryBatchSizeAndWidth) {
  for (int64_t d : {64, 192, 100}) {
    Projector p(77, d, 64);
    for (int64_t batch : {1, 2, 3, 4, 5, 9}) {
      at::Tensor g = torch::randn({batch, 150});
      at::Tensor out = torch::randn({batch, d});
      at::Tensor expected = out.to(at::kDouble) + torch::matmul(g.to(at::kDouble), p.rows(1234, 150).to(at::kDouble)) /
                                                      std::sqrt(static_cast<double>(d));
      p.accumulate(g, 1234, out);
      EXPECT_TRUE(torch::allclose(out.to(at::kDouble), expected, 1e-5, 1e-5)) << "d=" << d << " batch=" << batch;
    }
  }
}

TEST(Projector, AccumulateRejectsWrongShapes) {
  Projector p(1, 64);
  at::Tensor g = torch::ones({2, 10});
  at::Tensor out = torch::zeros({3, 64});
  EXPECT_ANY_THROW(p.accumulate(g, 0, out));
  at::Tensor out2 = torch::zeros({2, 32});
  EXPECT_ANY_THROW(p.accumulate(g, 0, out2));
}

// The JL property at the paper's dimensions (jl_check.h).
TEST(Projector, JohnsonLindenstrauss) {
  const ntks::testing::JlPairs v = ntks::testing::jl_pairs(3000, 24, 123, /*heavy_tail=*/false);
  for (int64_t d : {1024, 2048, 4096, 8192}) {
    Projector p(2024, d, 512);
    at::Tensor out = torch::zeros({v.both.size(0), d});
    p.accumulate(v.both, 7, out);
    ntks::testing::expect_jl(out, v, d, "d=" + std::to_string(d));
  }
}

// Every kernel batch width (the AVX-512 kernel takes up to 8 samples at a
// time, AVX2 4) and a remainder after full groups, at a width of several
// column chunks: equal to the dense product.
TEST(Projector, AccumulateEqualsDenseForBatchesUpTo17) {
  const int64_t d = 256;
  Projector p(31, d, 100);  // blocks of 100 rows: a partial last block of 350
  for (int64_t batch = 1; batch <= 17; ++batch) {
    at::Tensor g = torch::randn({batch, 350});
    at::Tensor out = torch::randn({batch, d});
    at::Tensor expected = out.to(at::kDouble) +
                          torch::matmul(g.to(at::kDouble), p.rows(99, 350).to(at::kDouble)) / std::sqrt(double(d));
    p.accumulate(g, 99, out);
    EXPECT_TRUE(torch::allclose(out.to(at::kDouble), expected, 1e-5, 1e-5)) << "batch=" << batch;
  }
}
