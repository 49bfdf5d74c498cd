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

/// [B, projector->dim()] fp32 rows ĝ = Pᵀ g / √d, or with projector == nullptr
/// the unprojected [B, lora_parameter_count(dec)] in the layout of
/// sample_grads.h; on the decoder's device.
at::Tensor batch_features(const model::Decoder& dec, const Batch& batch, config::GradOutput output, double scale,
                          const Projector* projector);

}  // namespace ntks::features
