// Batched per-sample gradients against the one-sample loop they replace, and
// the projection's share of the grads stage.

#include "ntks/bench/grads_bench.h"
#include "random_llama.h"
#include "timing.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <limits>

#include "ntks/features/project.h"
#include "ntks/features/projector.h"
#include "ntks/features/sample_grads.h"
#include "ntks/model/decoder.h"
#include "ntks/model/random_checkpoint.h"

namespace ntks::bench {

namespace {

// The baseline: each sample alone through an ordinary autograd graph over
// the adapter tensors. Returns the gradients [B, |LoRA|].
at::Tensor one_sample_loop(const model::Decoder& dec, const features::Batch& batch, config::GradOutput output) {
  std::vector<at::Tensor> params = dec.lora_parameters();
  for (auto& p : params) p.requires_grad_(true);
  const int64_t B = batch.ids.size(0), T = batch.ids.size(1);
  const at::Tensor counts = features::scored_token_counts(batch);
  std::vector<at::Tensor> rows;
  for (int64_t b = 0; b < B; ++b) {
    at::Tensor ids = batch.ids.narrow(0, b, 1), mask = batch.mask.narrow(0, b, 1);
    at::Tensor weight = (batch.response.narrow(0, b, 1).narrow(1, 1, T - 1) /
                         static_cast<double>(counts[b].item<int64_t>()));
    at::Tensor h = dec.hidden_states(ids, mask).narrow(1, 0, T - 1);
    at::Tensor f;
    if (output == config::GradOutput::logit_sum) {
      f = (torch::matmul(h.to(at::kFloat), dec.lm_head_row_sum()) * weight).sum();
    } else {
      at::Tensor logp = torch::log_softmax(dec.logits(h).to(at::kFloat), -1);
      f = (logp.gather(2, ids.narrow(1, 1, T - 1).unsqueeze(2)).squeeze(2) * weight).sum();
    }
    std::vector<at::Tensor> g = torch::autograd::grad({f}, params);
    std::vector<at::Tensor> flat;
    for (auto& x : g) flat.push_back(x.flatten());
    rows.push_back(torch::cat(flat));
  }
  for (auto& p : params) p.requires_grad_(false);
  return torch::stack(rows);
}

// One batch of per-sample gradients projected as the grads stage does it,
// the fastest of opt.reps after a warm-up, with the time spent inside the
// projector during that same run.
struct ProjectedStep {
  double step_s = std::numeric_limits<double>::infinity();
  double projection_s = 0;
};
ProjectedStep projected_step(const model::Decoder& dec, const features::Batch& batch, const GradsBenchOptions& opt,
                             const features::Projector& projector) {
  double projection = 0;
  auto step = [&] {
    at::Tensor out = at::zeros({batch.ids.size(0), opt.dim}, at::TensorOptions().dtype(at::kFloat).device(opt.device));
    projection = 0;
    features::per_sample_grads(dec, batch, opt.output, 1.0, [&](int64_t offset, const at::Tensor& g) {
      sync_device(opt.device);
      auto t0 = std::chrono::steady_clock::now();
      projector.accumulate(g, static_cast<uint64_t>(offset), out);
      sync_device(opt.device);
      projection += seconds_since(t0);
    });
  };
  step();  // warm-up
  ProjectedStep best;
  for (int i = 0; i < std::max(1, opt.reps); ++i) {
    auto t0 = std::chrono::steady_clock::now();
    step();
    sync_device(opt.device);
    const double s = seconds_since(t0);
    if (s < best.step_s) best = {s, projection};
  }
  return best;
}

}  // namespace

GradsBenchResult grads_bench(const GradsBenchOptions& opt) {
  model::Decoder dec = random_llama({opt.layers, opt.hidden, opt.intermediate, opt.heads, opt.kv_heads, opt.vocab,
                                     opt.seq_len},
                                    opt.dtype, opt.device);
  const model::HfConfig& c = dec.config();

  model::LoraSpec spec;
  spec.r = opt.lora_r;
  spec.alpha = opt.lora_alpha;
  spec.dropout = 0;
  dec.add_lora(spec, 1);
  at::Generator gen = at::detail::createCPUGenerator(2);
  for (auto& layer : dec.layers())
    for (auto& lin : layer.proj)
      if (lin.has_lora()) lin.lora().b = at::empty(lin.lora().b.sizes()).normal_(0, 0.02, gen).to(opt.device);

  const int64_t B = opt.batch, T = opt.seq_len, H = c.hidden_size, D = c.head_dim;
  const double layer_params = layer_matmul_params(c);
  GradsBenchResult r;
  r.params_millions = params_millions(c);
  r.lora_params = features::lora_parameter_count(dec);

  features::Batch batch;
  batch.ids = torch::randint(0, c.vocab_size, {B, T}, torch::kLong).to(opt.device);
  batch.mask = torch::ones({B, T}, torch::kLong).to(opt.device);
  batch.response = torch::zeros({B, T}, torch::kFloat);
  batch.response.narrow(1, T / 2, T - T / 2).fill_(1);
  batch.response = batch.response.to(opt.device);

  r.batched_s = fastest(opt.reps, opt.device, [&] {
    features::per_sample_grads(dec, batch, opt.output, 1.0, [](int64_t, const at::Tensor&) {});
  });
  if (opt.loop) {
    at::Tensor looped;
    r.loop_s = fastest(opt.reps, opt.device, [&] { looped = one_sample_loop(dec, batch, opt.output); });
    r.speedup = r.loop_s / r.batched_s;
    at::Tensor batched = features::batch_features(dec, batch, opt.output, 1.0, nullptr);
    r.max_rel_diff = ((batched - looped).abs().max() / looped.abs().max()).item<double>();
  }

  const features::Projector dense(42, opt.dim);
  const ProjectedStep d = projected_step(dec, batch, opt, dense);
  if (!opt.profile.empty())
    profile_once(opt.profile, [&] {
      at::Tensor out = at::zeros({B, opt.dim}, at::TensorOptions().dtype(at::kFloat).device(opt.device));
      features::per_sample_grads(dec, batch, opt.output, 1.0, [&](int64_t offset, const at::Tensor& g) {
        dense.accumulate(g, static_cast<uint64_t>(offset), out);
      });
    });
  r.projected_s = d.step_s;
  r.projection_s = d.projection_s;
  r.projection_fraction = r.projection_s / r.projected_s;
  r.projection_gflops = 2.0 * B * static_cast<double>(r.lora_params) * opt.dim / r.projection_s / 1e9;
  {
    auto t0 = std::chrono::steady_clock::now();
    const int64_t block = 256;
    for (int64_t i = 0; i < r.lora_params; i += block)
      dense.rows(static_cast<uint64_t>(i), std::min(block, r.lora_params - i));
    r.generation_s = seconds_since(t0);
  }
  if (opt.sparsity > 0) {
    const ProjectedStep sp = projected_step(dec, batch, opt, features::Projector::sparse(42, opt.dim, opt.sparsity));
    r.sparse_projected_s = sp.step_s;
    r.sparse_projection_s = sp.projection_s;
    r.sparse_fraction = sp.projection_s / sp.step_s;
  }
  if (opt.loop) {
    r.less_loop_s = r.loop_s + static_cast<double>(B) * r.generation_s;
    r.less_speedup = r.less_loop_s / r.projected_s;
    if (opt.sparsity > 0) r.less_speedup_sparse = r.less_loop_s / r.sparse_projected_s;
  }

  // FLOPs per token of the gradient step (see grads_bench.h).
  double lora_per_token = 0;
  for (const auto& layer : dec.layers())
    for (const auto& lin : layer.proj)
      if (lin.has_lora()) lora_per_token += 8.0 * opt.lora_r * static_cast<double>(lin.in_features() + lin.out_features());
  const double per_token =
      c.num_layers * (4.0 * layer_params + 12.0 * T * c.num_heads * D) + lora_per_token + 4.0 * H;
  const double step_flops = per_token * static_cast<double>(B * T);
  r.gflops = step_flops / r.batched_s / 1e9;
  r.peak = gemm_peak(at::kFloat, opt.device, 0.5);
  r.fraction_of_peak = r.gflops / r.peak.gflops;
  const double projection_flops = 2.0 * B * static_cast<double>(r.lora_params);
  r.projected_fraction = (step_flops + projection_flops * opt.dim) / r.projected_s / 1e9 / r.peak.gflops;
  if (opt.sparsity > 0)
    r.sparse_projected_fraction =
        (step_flops + projection_flops * opt.sparsity) / r.sparse_projected_s / 1e9 / r.peak.gflops;
  return r;
}

}  // namespace ntks::bench
