#include "ntks/model/torch_info.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <chrono>

#include <fmt/format.h>

namespace ntks::model {

std::string torch_version() { return TORCH_VERSION; }

std::string torch_blas() {
  std::string cfg = at::show_config();
  auto pos = cfg.find("BLAS_INFO=");
  if (pos == std::string::npos) return "unknown";
  pos += 10;
  auto end = cfg.find_first_of(", \n", pos);
  return cfg.substr(pos, end - pos);
}

std::string cuda_summary() {
  if (!torch::cuda::is_available()) {
    return at::hasCUDA() ? "on (no device visible)" : "off";
  }
  return fmt::format("on ({} devices)", torch::cuda::device_count());
}

double measure_gemm_gflops(int n, int reps) {
  torch::NoGradGuard no_grad;
  auto a = torch::randn({n, n});
  auto b = torch::randn({n, n});
  auto c = torch::mm(a, b);  // warm-up: thread pool, page faults
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i) c = torch::mm(a, b);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return 2.0 * n * n * static_cast<double>(n) * reps / s / 1e9;
}

}  // namespace ntks::model
