#pragma once
// Benchmark of full-parameter training (`ntk-select bench --what pretrain`):
// optimizer steps of the training loop that `pretrain` runs (forward,
// backward, gradient allreduce, clipping, AdamW) on a random llama, as a
// fraction of this machine's GEMM peak.

#include <torch/torch.h>

#include <cstdint>

#include "ntks/bench/bench.h"

namespace ntks::bench {

struct PretrainBenchOptions {
  // A proxy-model shape: 6 × (384 hidden, 1024 MLP), vocabulary 8192 (tied) ≈ 11M parameters.
  int64_t layers = 6, hidden = 384, intermediate = 1024, heads = 6, kv_heads = 2, vocab = 8192;
  int64_t batch = 16;     ///< sequences per step (pretrain.batch_size)
  int64_t seq_len = 256;  ///< tokens per sequence
  int reps = 4;           ///< timed steps after one untimed step; the median counts
  at::ScalarType dtype = at::kFloat;
  at::Device device = at::kCPU;
};

struct PretrainBenchResult {
  double params_millions = 0;
  double step_s = 0;           ///< median wall time of one optimizer step
  double tokens_per_s = 0;
  double gflops = 0;           ///< 3 x (forward matmuls + the output layer), per token, at that rate
  GemmPeak peak;
  double fraction_of_peak = 0; ///< gflops / peak (target >= 0.5 on CPU at hidden >= 256)
};

PretrainBenchResult pretrain_bench(const PretrainBenchOptions& opt);

}  // namespace ntks::bench
