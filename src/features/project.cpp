// Per-sample gradients fed straight into the projector.

#include "ntks/features/project.h"

#include "ntks/features/sample_grads.h"
#include "ntks/util/error.h"

namespace ntks::features {

at::Tensor AdamPreconditioner::apply(int64_t offset, const at::Tensor& g) const {
  NTKS_CHECK(offset >= 0 && offset + g.size(1) <= m.numel() && m.numel() == v.numel(),
             "moments of {} parameters for a gradient slice at {} (+{})", m.numel(), offset, g.size(1));
  const at::Tensor ms = m.narrow(0, offset, g.size(1)).unsqueeze(0);
  const at::Tensor vs = v.narrow(0, offset, g.size(1)).unsqueeze(0);
  return (ms * beta1 + g * (1 - beta1)) / (vs * beta2 + g * g * (1 - beta2) + eps).sqrt();
}

at::Tensor batch_features(const model::Decoder& dec, const Batch& batch, config::GradOutput output, double scale,
                          const Projector* projector, const AdamPreconditioner* precondition) {
  const int64_t B = batch.ids.size(0);
  const auto opts = at::TensorOptions().dtype(at::kFloat).device(dec.device());
  auto direction = [&](int64_t offset, const at::Tensor& g) { return precondition ? precondition->apply(offset, g) : g; };
  if (projector) {
    at::Tensor out = at::zeros({B, projector->dim()}, opts);
    per_sample_grads(dec, batch, output, scale, [&](int64_t offset, const at::Tensor& g) {
      projector->accumulate(direction(offset, g), static_cast<uint64_t>(offset), out);
    });
    return out;
  }
  const int64_t n = lora_parameter_count(dec);
  at::Tensor out = at::empty({B, n}, opts);
  int64_t filled = 0;
  per_sample_grads(dec, batch, output, scale, [&](int64_t offset, const at::Tensor& g) {
    NTKS_CHECK(offset == filled && offset + g.size(1) <= n, "gradient slice at {} (+{}) after {} of {}", offset,
               g.size(1), filled, n);
    out.narrow(1, offset, g.size(1)).copy_(direction(offset, g));
    filled += g.size(1);
  });
  NTKS_CHECK(filled == n, "gradient covered {} of {} LoRA parameters", filled, n);
  return out;
}

}  // namespace ntks::features
