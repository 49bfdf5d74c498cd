#pragma once
// Gradient clipping by global norm (torch.nn.utils.clip_grad_norm_ on all
// LoRA gradients at once, as Hugging Face's Trainer does with max_grad_norm).

#include <torch/torch.h>

namespace ntks::train {

/// Returns the L2 norm of `grad` (all gradients flattened into one vector)
/// before clipping; when max_norm > 0 and the norm exceeds it, scales `grad`
/// in place by max_norm / (norm + 1e-6), PyTorch's factor. max_norm 0: no clipping.
double clip_by_global_norm(at::Tensor& grad, double max_norm);

}  // namespace ntks::train
