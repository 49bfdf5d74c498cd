#pragma once
// A batch's per-sample gradient features: projected module by module while
// the gradients are computed (never the whole LoRA vector per sample), or the
// unprojected gradient for grads.dim = 0.

#include <torch/torch.h>

#include "ntks/config/config.h"
#include "ntks/features/batching.h"
#include "ntks/features/projector.h"
#include "ntks/model/decoder.h"

namespace ntks::features {

/// Adam's update direction in place of the raw gradient (LESS, the baseline
/// select.method less): with the moments m, v of a warm-up, flattened in the
/// layout of sample_grads.h, each per-sample gradient g of the loss becomes
///   (beta1 m + (1 - beta1) g) / sqrt(beta2 v + (1 - beta2) g^2 + eps),
/// as LESS computes it: no bias correction, eps inside the root.
struct AdamPreconditioner {
  at::Tensor m, v;  ///< [lora_parameter_count] fp32, on the decoder's device
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  /// The direction of `g` [B, numel], whose column 0 is layout index `offset`.
  at::Tensor apply(int64_t offset, const at::Tensor& g) const;
};

/// [B, projector->dim()] fp32 rows ĝ = Pᵀ g / √d, or with projector == nullptr
/// the unprojected [B, lora_parameter_count(dec)] in the layout of
/// sample_grads.h; on the decoder's device. With `precondition`, g is first
/// replaced by its Adam direction.
at::Tensor batch_features(const model::Decoder& dec, const Batch& batch, config::GradOutput output, double scale,
                          const Projector* projector, const AdamPreconditioner* precondition = nullptr);

}  // namespace ntks::features
