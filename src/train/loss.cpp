#include "ntks/train/loss.h"

namespace ntks::train {

at::Tensor response_nll(const model::Decoder& decoder, const at::Tensor& hidden, const features::Batch& batch) {
  const int64_t B = hidden.size(0), T = hidden.size(1), H = hidden.size(2);
  const auto fp32 = torch::TensorOptions().dtype(at::kFloat).device(hidden.device());
  if (T < 2) return torch::zeros({B}, fp32);
  const at::Tensor weight = batch.response.narrow(1, 1, T - 1).to(at::kFloat);  // [B, T-1]
  const at::Tensor rows = weight.reshape({-1}).nonzero().reshape({-1});         // flat (b, t-1) rows
  const at::Tensor targets = batch.ids.narrow(1, 1, T - 1).reshape({-1}).index_select(0, rows);
  const at::Tensor h = hidden.narrow(1, 0, T - 1).reshape({-1, H}).index_select(0, rows);
  const at::Tensor logp = torch::log_softmax(decoder.logits(h).to(at::kFloat), -1);
  const at::Tensor nll = -logp.gather(1, targets.unsqueeze(1)).squeeze(1);
  const at::Tensor sample = torch::div(rows, T - 1, "floor");
  const at::Tensor sums = torch::zeros({B}, fp32).index_add(0, sample, nll);
  return sums / weight.sum(1).clamp_min(1);
}

}  // namespace ntks::train
