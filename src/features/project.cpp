// Per-sample gradients fed straight into the projector.

#include "ntks/features/project.h"

#include "ntks/features/sample_grads.h"
#include "ntks/util/error.h"

namespace ntks::features {

at::Tensor batch_features(const model::Decoder& dec, const Batch& batch, config::GradOutput output, double scale,
                          const Projector* projector) {
  const int64_t B = batch.ids.size(0);
  const auto opts = at::TensorOptions().dtype(at::kFloat).device(dec.device());
  if (projector) {
    at::Tensor out = at::zeros({B, projector->dim()}, opts);
    per_sample_grads(dec, batch, output, scale, [&](int64_t offset, const at::Tensor& g) {
      projector->accumulate(g, static_cast<uint64_t>(offset), out);
    });
    return out;
  }
  const int64_t n = lora_parameter_count(dec);
  at::Tensor out = at::empty({B, n}, opts);
  int64_t filled = 0;
  per_sample_grads(dec, batch, output, scale, [&](int64_t offset, const at::Tensor& g) {
    NTKS_CHECK(offset == filled && offset + g.size(1) <= n, "gradient slice at {} (+{}) after {} of {}", offset,
               g.size(1), filled, n);
    out.narrow(1, offset, g.size(1)).copy_(g);
    filled += g.size(1);
  });
  NTKS_CHECK(filled == n, "gradient covered {} of {} LoRA parameters", filled, n);
  return out;
}

}  // namespace ntks::features
