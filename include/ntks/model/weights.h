#pragma once
// safetensors views -> torch tensors, without copying.

#include <torch/torch.h>

#include "ntks/model/safetensors.h"

namespace ntks::model {

/// torch dtype of a safetensors dtype; throws InputError for unsupported ones.
at::ScalarType torch_dtype(StDType t);
StDType st_dtype(at::ScalarType t);

/// A CPU tensor over the mapped bytes of `view`; it keeps `owner` (the
/// mapping) alive. Read-only memory: never modify it in place.
at::Tensor tensor_from_view(const TensorView& view, std::shared_ptr<const void> owner);

/// The bytes of a CPU tensor, for writing (contiguous copy when needed).
TensorBytes tensor_bytes(const std::string& name, const at::Tensor& t);

}  // namespace ntks::model
