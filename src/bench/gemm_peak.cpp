#include <torch/csrc/autograd/profiler_legacy.h>

#include <chrono>

#include "ntks/bench/bench.h"
#include "ntks/util/blas_kernels.h"

namespace ntks::bench {

namespace {

GemmPeak measure_peak(at::ScalarType dtype, at::Device device, double seconds_per_size) {
  torch::NoGradGuard no_grad;
  GemmPeak best;
  for (int64_t n : {512, 1024, 2048, 4096}) {
    auto opts = torch::TensorOptions().dtype(dtype).device(device);
    at::Tensor a = torch::randn({n, n}, opts), b = torch::randn({n, n}, opts);
    at::Tensor c = torch::matmul(a, b);  // warm-up
    if (device.is_cuda()) torch::cuda::synchronize();
    int reps = 0;
    auto t0 = std::chrono::steady_clock::now();
    double s = 0;
    while (s < seconds_per_size || reps < 2) {
      c = torch::matmul(a, b);
      if (device.is_cuda()) torch::cuda::synchronize();
      ++reps;
      s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    double gflops = 2.0 * n * n * static_cast<double>(n) * reps / s / 1e9;
    if (gflops > best.gflops) best = {gflops, n};
  }
  return best;
}

}  // namespace

GemmPeak gemm_peak(at::ScalarType dtype, at::Device device, double seconds_per_size) {
  const bool tiled = util::set_tiled_blas(false);
  const GemmPeak p = measure_peak(dtype, device, seconds_per_size);
  util::set_tiled_blas(tiled);
  return p;
}

void profile_once(const std::string& path, const std::function<void()>& work) {
  torch::autograd::profiler::RecordProfile guard(path);
  work();
}

GemmPeak tiled_gemm_peak(at::ScalarType dtype, at::Device device, double seconds_per_size) {
  return measure_peak(dtype, device, seconds_per_size);
}

}  // namespace ntks::bench
