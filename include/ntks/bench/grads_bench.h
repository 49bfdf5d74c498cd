#pragma once
// Benchmark of the grads stage's inner loop (`ntk-select bench --what grads`):
// batched per-sample LoRA gradients (features/sample_grads.h) against a loop
// of one-sample autograd calls, and the projection's share of a projected
// gradient step (dense Rademacher and sparse JL), and both against a
// LESS-style loop (one sample at a time, each projected alone), on a random llama of about 30M parameters.

#include <torch/torch.h>

#include <cstdint>
#include <string>

#include "ntks/bench/bench.h"
#include "ntks/config/config.h"

namespace ntks::bench {

struct GradsBenchOptions {
  // The model: 8 × (512 hidden, 1408 MLP) + 2 × 8192 × 512 embeddings ≈ 32M parameters.
  int64_t layers = 8, hidden = 512, intermediate = 1408, heads = 8, kv_heads = 4, vocab = 8192;
  int64_t lora_r = 8;        ///< LoRA rank on all of q, k, v, o, gate, up, down (the paper: 32)
  double lora_alpha = 16;    ///< LoRA alpha (the paper's)
  int64_t batch = 8;         ///< samples per batch (grads.batch_size)
  int64_t seq_len = 256;     ///< tokens per sample, the second half response tokens
  int64_t dim = 8192;        ///< projection dimension d (grads.dim)
  int64_t sparsity = 4;      ///< also time the sparse projection with this grads.sparsity; 0: not
  int reps = 3;              ///< timed repetitions of each figure; the fastest counts
  std::string profile;       ///< non-empty: one more dense projected step under torch's profiler, trace here
  bool loop = true;          ///< also time the one-sample-at-a-time loop
  config::GradOutput output = config::GradOutput::logit_sum;
  at::ScalarType dtype = at::kFloat;  ///< base weights; LoRA math is fp32
  at::Device device = at::kCPU;
};

struct GradsBenchResult {
  double params_millions = 0;
  int64_t lora_params = 0;       ///< |LoRA|, the unprojected gradient length
  double batched_s = 0;          ///< one batch of per-sample gradients, unprojected (sink does nothing)
  double loop_s = 0;             ///< the same gradients, one sample per forward + autograd::grad
  double speedup = 0;            ///< loop_s / batched_s (target ≥ 5)
  double max_rel_diff = 0;       ///< max |batched - loop| / max |loop| (the two must agree)
  double projected_s = 0;        ///< one batch of per-sample gradients projected to dim
  double projection_s = 0;       ///< of which inside Projector::accumulate
  double projection_fraction = 0;  ///< projection_s / projected_s (target ≤ 0.15)
  double generation_s = 0;       ///< generating all |LoRA| × dim signs once (Projector::rows)
  double sparse_projected_s = 0;   ///< the same step with the sparse projection (opt.sparsity)
  double sparse_projection_s = 0;  ///< of which inside Projector::accumulate
  double sparse_fraction = 0;      ///< sparse_projection_s / sparse_projected_s (target ≤ 0.15)
  /// LESS-style: each sample alone through autograd (loop_s), then projected
  /// alone by a dense matrix generated for it: loop_s + batch × generation_s
  /// (a lower bound: the product itself is not counted).
  double less_loop_s = 0;
  double less_speedup = 0;         ///< less_loop_s / projected_s (dense)
  double less_speedup_sparse = 0;  ///< less_loop_s / sparse_projected_s (target ≥ 40)
  double gflops = 0;             ///< achieved by the unprojected gradient step (FLOPs counted below)
  double projection_gflops = 0;  ///< achieved by the projection (2 · batch · |LoRA| · dim per batch)
  GemmPeak peak;
  double fraction_of_peak = 0;   ///< gflops / peak
  /// The projected step's useful work (the gradient step's FLOPs plus the
  /// projection's: 2 · batch · |LoRA| · dim dense, · sparsity sparse) per
  /// second, as a fraction of the peak.
  double projected_fraction = 0;
  double sparse_projected_fraction = 0;
};

/// Writes the random checkpoint to a temp folder, loads it, attaches a LoRA
/// adapter with random (nonzero) B, and times one warm-up then `reps` batches
/// of each figure. FLOPs of the gradient step: the forward's matmuls (as
/// forward_bench, without the vocabulary matmul that logit_sum never runs)
/// plus the backward to the activations (one matmul per projection, two per
/// attention product), plus the per-sample LoRA contractions.
GradsBenchResult grads_bench(const GradsBenchOptions& opt);

}  // namespace ntks::bench
