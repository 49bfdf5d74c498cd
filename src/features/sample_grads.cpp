// Per-sample LoRA gradients of a whole batch from one forward and one
// backward pass (DESIGN §7): the samples of a batch are independent, so the
// gradient of F = Σ_b f_b with respect to a module's branch output y is, row
// b, the gradient of f_b alone; the parameter gradients are then contracted
// per sample from the traced x, u and ∂F/∂y.

#include "ntks/features/sample_grads.h"

#include <fmt/ranges.h>
#include <map>
#include <utility>

#include "ntks/util/error.h"

namespace ntks::features {

namespace {

// y = s·B·u only enters the autograd graph when something upstream requires
// grad; the adapter's B does so for the duration of one call (the base
// weights never), and is restored even when the call throws.
class LoraBRequiresGrad {
 public:
  explicit LoraBRequiresGrad(const model::Decoder& dec) {
    for (const auto& layer : dec.layers())
      for (const auto& lin : layer.proj)
        if (lin.has_lora()) {
          saved_.emplace_back(lin.lora().b, lin.lora().b.requires_grad());
          lin.lora().b.requires_grad_(true);
        }
  }
  ~LoraBRequiresGrad() {
    for (auto& [b, was] : saved_) b.requires_grad_(was);
  }
  LoraBRequiresGrad(const LoraBRequiresGrad&) = delete;
  LoraBRequiresGrad& operator=(const LoraBRequiresGrad&) = delete;

 private:
  std::vector<std::pair<at::Tensor, bool>> saved_;
};

// F = Σ_b f_b · scale from the final hidden states (see sample_grads.h).
at::Tensor batch_objective(const model::Decoder& dec, const at::Tensor& hidden, const at::Tensor& ids,
                           const at::Tensor& weight, config::GradOutput output) {
  const int64_t T = hidden.size(1);
  // Row t-1 predicts token t: rows 0..T-2 against tokens 1..T-1.
  at::Tensor rows = hidden.narrow(1, 0, T - 1);
  if (output == config::GradOutput::logit_sum) {
    // Σ_v logits[t, v] = h_t · Σ_v W_lm[v]: no vocabulary-sized matmul.
    at::Tensor row_sum = torch::matmul(rows.to(at::kFloat), dec.lm_head_row_sum());  // [B, T-1]
    return (row_sum * weight).sum();
  }
  // Log-likelihood: logits of the scored rows only.
  at::Tensor where = weight.nonzero();  // [N, 2]: (sample, row)
  at::Tensor b = where.select(1, 0), t = where.select(1, 1);
  at::Tensor picked = rows.index({b, t});                                          // [N, hidden]
  at::Tensor logp = torch::log_softmax(dec.logits(picked).to(at::kFloat), -1);     // [N, vocab]
  at::Tensor target = ids.narrow(1, 1, T - 1).index({b, t}).unsqueeze(1);         // [N, 1]
  return (logp.gather(1, target).squeeze(1) * weight.index({b, t})).sum();
}

}  // namespace

int64_t lora_parameter_count(const model::Decoder& dec) {
  int64_t n = 0;
  for (const at::Tensor& p : dec.lora_parameters()) n += p.numel();
  return n;
}

namespace {

// [B, T-1] bool on the CPU: row t-1 predicts a real response token t.
at::Tensor scored_rows(const Batch& batch) {
  const int64_t T = batch.ids.size(1);
  if (T < 2) return at::zeros({batch.ids.size(0), 0}, at::kBool);
  const at::Tensor response = batch.response.cpu(), mask = batch.mask.cpu();
  return response.narrow(1, 1, T - 1).gt(0).logical_and(mask.narrow(1, 1, T - 1).gt(0));
}

}  // namespace

at::Tensor scored_token_counts(const Batch& batch) { return scored_rows(batch).sum(1).to(at::kLong); }

void per_sample_grads(const model::Decoder& dec, const Batch& batch, config::GradOutput output, double scale,
                      const GradSink& sink) {
  NTKS_CHECK(dec.has_lora(), "per-sample gradients need a LoRA adapter on the model");
  NTKS_CHECK(!c10::InferenceMode::is_enabled(), "per-sample gradients need autograd: not under c10::InferenceMode");
  NTKS_CHECK(batch.ids.dim() == 2 && batch.mask.sizes() == batch.ids.sizes() &&
                 batch.response.sizes() == batch.ids.sizes(),
             "batch tensors ids [{}], mask [{}], response [{}] differ in shape", fmt::join(batch.ids.sizes(), ", "),
             fmt::join(batch.mask.sizes(), ", "), fmt::join(batch.response.sizes(), ", "));
  const at::Device device = dec.device();
  const int64_t B = batch.ids.size(0);

  const at::Tensor scored = scored_rows(batch);
  const at::Tensor counts = scored.sum(1).to(at::kLong);
  for (int64_t b = 0; b < B; ++b)
    if (counts[b].item<int64_t>() == 0)
      throw InputError(fmt::format(
          "per-sample gradient of batch row {}: no response token after position 0 (a token at position 0 has "
          "no predicting row), so f(x) is undefined; such samples must be left out before batching",
          b));

  const at::Tensor ids = batch.ids.to(device), mask = batch.mask.to(device);
  // weight[b, t-1] = scale / |R_b| on the rows that predict a response token.
  const at::Tensor weight =
      (scored.to(at::kDouble) * (scale / counts.to(at::kDouble)).unsqueeze(1)).to(at::kFloat).to(device);

  std::vector<model::LoraTrace> trace;
  std::vector<at::Tensor> deltas;
  {
    torch::AutoGradMode grad_on(true);
    LoraBRequiresGrad guard(dec);
    model::ForwardContext ctx;
    ctx.trace = &trace;
    at::Tensor hidden = dec.hidden_states(ids, mask, ctx);
    at::Tensor objective = batch_objective(dec, hidden, ids, weight, output);
    std::vector<at::Tensor> ys;
    ys.reserve(trace.size());
    for (const auto& tr : trace) ys.push_back(tr.y);
    // One backward for every module of every sample.
    deltas = torch::autograd::grad({objective}, ys, /*grad_outputs=*/{}, /*retain_graph=*/false,
                                   /*create_graph=*/false, /*allow_unused=*/true);
  }

  std::map<std::pair<int, int>, size_t> at_module;
  for (size_t i = 0; i < trace.size(); ++i) at_module[{trace[i].layer, trace[i].module}] = i;

  int64_t offset = 0;
  const auto& layers = dec.layers();
  for (size_t l = 0; l < layers.size(); ++l)
    for (size_t m = 0; m < layers[l].proj.size(); ++m) {
      const model::Linear& lin = layers[l].proj[m];
      if (!lin.has_lora()) continue;
      auto it = at_module.find({static_cast<int>(l), static_cast<int>(m)});
      NTKS_CHECK(it != at_module.end(), "layer {} module {} has LoRA but left no trace", l, m);
      model::LoraTrace& tr = trace[it->second];
      const at::Tensor& a = lin.lora().a;  // [r, in]
      const at::Tensor& bw = lin.lora().b;  // [out, r]
      const double s = lin.lora().scaling;
      at::Tensor delta = deltas[it->second];  // [B, T, out]
      if (!delta.defined()) delta = at::zeros_like(tr.y);
      // ∂f/∂A = Σ_t (∂f/∂u_t) x_tᵀ with ∂f/∂u = s·δ·B.
      at::Tensor gu = torch::matmul(delta, bw) * s;                        // [B, T, r]
      at::Tensor ga = torch::bmm(gu.transpose(1, 2), tr.x.detach());       // [B, r, in]
      gu = at::Tensor();
      sink(offset, ga.reshape({B, a.numel()}));
      offset += a.numel();
      ga = at::Tensor();
      // ∂f/∂B = s·Σ_t δ_t u_tᵀ.
      at::Tensor gb = torch::bmm(delta.transpose(1, 2), tr.u.detach()) * s;  // [B, out, r]
      deltas[it->second] = at::Tensor();
      tr = model::LoraTrace{tr.layer, tr.module, {}, {}, {}};
      sink(offset, gb.reshape({B, bw.numel()}));
      offset += bw.numel();
    }
}

}  // namespace ntks::features
