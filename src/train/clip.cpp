#include "ntks/train/clip.h"

namespace ntks::train {

double clip_by_global_norm(at::Tensor& grad, double max_norm) {
  torch::NoGradGuard no_grad;
  const double norm = grad.to(at::kDouble).norm().item<double>();
  if (max_norm > 0) {
    const double coef = max_norm / (norm + 1e-6);
    if (coef < 1) grad.mul_(coef);
  }
  return norm;
}

}  // namespace ntks::train
