#pragma once
// What the linked LibTorch is and can do (for --build-info and selfcheck).

#include <string>

namespace ntks::model {

std::string torch_version();
/// The BLAS LibTorch was built against, from at::show_config() ("open", "mkl", ...).
std::string torch_blas();
/// "off" for a CPU-only LibTorch, else "on (N devices)" / "on (no device visible)".
std::string cuda_summary();
/// Measured fp32 GEMM throughput of this process in GFLOP/s (n x n, a few reps).
double measure_gemm_gflops(int n = 1024, int reps = 4);

}  // namespace ntks::model
