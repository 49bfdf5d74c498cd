#include "ntks/train/adamw.h"

#include <cmath>

#include "ntks/util/error.h"

namespace ntks::train {

AdamW::AdamW(std::vector<at::Tensor> params, AdamWOptions options) : params_(std::move(params)), opt_(options) {
  for (const auto& p : params_) {
    m_.push_back(torch::zeros_like(p, at::MemoryFormat::Contiguous));
    v_.push_back(torch::zeros_like(p, at::MemoryFormat::Contiguous));
  }
}

void AdamW::step(const std::vector<at::Tensor>& grads, double lr) {
  NTKS_CHECK(grads.size() == params_.size(), "{} gradients for {} parameters", grads.size(), params_.size());
  torch::NoGradGuard no_grad;
  ++steps_;
  const double bc1 = 1.0 - std::pow(opt_.beta1, static_cast<double>(steps_));
  const double bc2_sqrt = std::sqrt(1.0 - std::pow(opt_.beta2, static_cast<double>(steps_)));
  const double step_size = lr / bc1;
  for (size_t i = 0; i < params_.size(); ++i) {
    at::Tensor& p = params_[i];
    const at::Tensor g = grads[i].view(p.sizes());
    if (opt_.weight_decay != 0) p.mul_(1.0 - lr * opt_.weight_decay);
    m_[i].mul_(opt_.beta1).add_(g, 1.0 - opt_.beta1);
    v_[i].mul_(opt_.beta2).addcmul_(g, g, 1.0 - opt_.beta2);
    const at::Tensor denom = (v_[i].sqrt() / bc2_sqrt).add_(opt_.eps);
    p.addcdiv_(m_[i], denom, -step_size);
  }
}

}  // namespace ntks::train
