// GEMM and GEMV in fixed tiles (src/util/blas_tiles.cpp): LibTorch's calls
// reach them, they compute what OpenBLAS computes (every transposition,
// leading dimensions, alpha and beta), and the bits do not change with the
// thread count, on every OpenBLAS core this CPU runs.

#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>

#include "ntks/util/blas_kernels.h"
#include "test_util.h"

namespace blas_tiles_test {

using ntks::testing::run_command;

// Products of every transposition over a grid of shapes (k up to 1000: OpenBLAS's
// threaded driver splits such sums differently on 1 and 2 threads).
std::vector<at::Tensor> products(at::ScalarType dtype) {
  torch::manual_seed(3);
  std::vector<at::Tensor> out;
  auto opt = torch::TensorOptions().dtype(dtype);
  for (int64_t m : {1, 7, 33, 300, 600})
    for (int64_t k : {16, 256, 1000})
      for (int64_t n : {1, 48, 300}) {
        at::Tensor a = torch::randn({m, k}, opt), b = torch::randn({k, n}, opt);
        at::Tensor at_ = torch::randn({k, m}, opt).t(), bt = torch::randn({n, k}, opt).t();
        out.push_back(torch::mm(a, b));
        out.push_back(torch::mm(at_, bt));
        out.push_back(torch::mm(a, bt));
        // A view with a leading dimension larger than its rows, alpha and beta.
        at::Tensor wide = torch::randn({m, k + 5}, opt);
        out.push_back(torch::addmm(torch::ones({m, n}, opt), wide.narrow(1, 2, k), b, 0.5, 2.0));
      }
  for (int64_t m : {5, 3000})
    for (int64_t n : {7, 2500}) {
      at::Tensor a = torch::randn({m, n}, opt);
      out.push_back(torch::mv(a, torch::randn({n}, opt)));
      out.push_back(torch::mv(a.t(), torch::randn({m}, opt)));
      out.push_back(torch::addmv(torch::ones({m}, opt), a, torch::randn({n}, opt), 0.25, 3.0));
    }
  return out;
}

std::vector<at::Tensor> products_on(int threads, at::ScalarType dtype) {
  const int before = at::get_num_threads();
  at::set_num_threads(threads);
  std::vector<at::Tensor> out = products(dtype);
  at::set_num_threads(before);
  return out;
}

TEST(BlasTiles, LibTorchsCallsReachTheTiles) { EXPECT_TRUE(ntks::util::blas_calls_tiled()); }

TEST(BlasTiles, TheTilesComputeWhatOpenBlasComputes) {
  for (at::ScalarType dtype : {at::kFloat, at::kDouble}) {
    const std::vector<at::Tensor> tiled = products_on(2, dtype);
    ntks::util::set_tiled_blas(false);
    const std::vector<at::Tensor> plain = products_on(2, dtype);
    ntks::util::set_tiled_blas(true);
    ASSERT_EQ(tiled.size(), plain.size());
    const double tol = dtype == at::kFloat ? 2e-5 : 1e-12;
    for (size_t i = 0; i < tiled.size(); ++i) {
      const double scale = plain[i].abs().max().item<double>() + 1;
      EXPECT_LE((tiled[i] - plain[i]).abs().max().item<double>(), tol * scale)
          << "product " << i << " " << tiled[i].sizes() << " " << c10::toString(dtype);
    }
  }
}

TEST(BlasTiles, TheThreadCountChangesNoBit) {
  for (at::ScalarType dtype : {at::kFloat, at::kDouble}) {
    const std::vector<at::Tensor> one = products_on(1, dtype);
    for (int threads : {2, 3}) {
      const std::vector<at::Tensor> many = products_on(threads, dtype);
      for (size_t i = 0; i < one.size(); ++i)
        EXPECT_TRUE(torch::equal(one[i], many[i]))
            << "product " << i << " " << one[i].sizes() << " on " << threads << " threads, "
            << c10::toString(dtype) << ", core " << ntks::util::running_blas_core() << ": "
            << (one[i] - many[i]).abs().max().item<double>();
    }
  }
}

// The test above in a child process on each core this CPU runs (the unit
// tests themselves run on the machine's own core).
TEST(BlasTiles, TheThreadCountChangesNoBitOnAnyCore) {
  const ntks::util::CpuFeatures cpu = ntks::util::detect_cpu();
  std::vector<std::string> cores = {"Prescott"};
  if (cpu.avx) cores.push_back("Sandybridge");
  if (cpu.avx2 && cpu.fma) cores.push_back("Haswell");
  if (cpu.avx512) cores.push_back("SkylakeX");
  for (const std::string& core : cores) {
    auto r = run_command(fmt::format("OPENBLAS_CORETYPE={} /proc/{}/exe --gtest_filter=BlasTiles.TheThreadCountChangesNoBit 2>&1",
                                     core, ::getpid()));
    EXPECT_EQ(r.status, 0) << core << ":\n" << r.output;
    EXPECT_NE(r.output.find("[  PASSED  ] 1 test"), std::string::npos) << core << ":\n" << r.output;
  }
}

}  // namespace blas_tiles_test
