// The GPU projection (a fused sign-generation kernel) against the CPU path
// on the same gradients: same matrix, so equal up to float summation order;
// and the same bits on every run (no atomics). Runs where a CUDA device is
// visible (CUDA builds on a GPU machine); skipped elsewhere.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "ntks/features/projector.h"

namespace {

void expect_cpu_equal_gpu(int64_t batch, int64_t n, int64_t dim, uint64_t first_row) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device visible";
  ntks::features::Projector p(1234, dim);
  at::Tensor g = at::randn({batch, n}, at::TensorOptions().dtype(at::kFloat));
  at::Tensor cpu = at::zeros({batch, dim});
  p.accumulate(g, first_row, cpu);
  const at::Device dev(at::kCUDA, 0);
  at::Tensor gpu = at::zeros({batch, dim}, at::TensorOptions().device(dev));
  p.accumulate(g.to(dev), first_row, gpu);
  at::Tensor again = at::zeros({batch, dim}, at::TensorOptions().device(dev));
  p.accumulate(g.to(dev), first_row, again);
  const double err = (gpu.cpu() - cpu).abs().max().item<double>();
  const double scale = cpu.abs().max().item<double>();
  EXPECT_LT(err, 2e-6 * scale * std::sqrt(static_cast<double>(n))) << "batch " << batch << " n " << n << " dim " << dim;
  EXPECT_TRUE(torch::equal(gpu, again)) << "two runs on the GPU differ";
}

}  // namespace

TEST(ProjectorCuda, MatchesCpuOneGroup) { expect_cpu_equal_gpu(5, 3000, 8192, 12345); }
TEST(ProjectorCuda, MatchesCpuSeveralGroupsAndChunks) { expect_cpu_equal_gpu(19, 70000, 1024, 1ULL << 33); }
TEST(ProjectorCuda, MatchesCpuPartialTile) { expect_cpu_equal_gpu(1, 100, 640, 0); }
