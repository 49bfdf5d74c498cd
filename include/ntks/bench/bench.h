#pragma once
// Benchmarks (`ntk-select bench`): throughput measured against this
// machine's own GEMM peak, in the same process and thread count, so the
// figures compare across machines. Never timed unit tests.

#include <cstdint>
#include <string>

#include <torch/torch.h>

namespace ntks::bench {

struct GemmPeak {
  double gflops = 0;  ///< best over the sizes tried
  int64_t n = 0;      ///< square size that reached it
};

/// Best square GEMM throughput in `dtype` on `device` over sizes 512..4096.
GemmPeak gemm_peak(at::ScalarType dtype, at::Device device, double seconds_per_size = 1.0);

struct ForwardBenchOptions {
  int64_t layers = 8, hidden = 512, intermediate = 1408, heads = 8, kv_heads = 4, vocab = 32000;
  int64_t batch = 4, seq_len = 512;  ///< tokens per forward = batch * seq_len
  int reps = 5;
  at::ScalarType dtype = at::kFloat;
  at::Device device = at::kCPU;
};

struct ForwardBenchResult {
  double params_millions = 0;
  double tokens_per_s = 0;
  double gflops = 0;         ///< achieved, counting matmul FLOPs of the hidden-state pass
  GemmPeak peak;
  double fraction_of_peak = 0;
};

/// Random checkpoint of the given shape (written to a temp folder), loaded
/// and run `reps` times on batch x seq_len tokens after one warm-up pass.
ForwardBenchResult forward_bench(const ForwardBenchOptions& opt);

}  // namespace ntks::bench
