#include "ntks/train/adamw.h"

#include <cmath>

#include "ntks/util/error.h"

namespace ntks::train {

AdamW::AdamW(std::vector<at::Tensor> params, AdamWOptions options, std::vector<bool> decay)
    : params_(std::move(params)), decay_(std::move(decay)), opt_(options) {
  if (decay_.empty()) decay_.assign(params_.size(), true);
  NTKS_CHECK(decay_.size() == params_.size(), "{} decay flags for {} parameters", decay_.size(), params_.size());
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
    if (opt_.weight_decay != 0 && decay_[i]) p.mul_(1.0 - lr * opt_.weight_decay);
    m_[i].mul_(opt_.beta1).add_(g, 1.0 - opt_.beta1);
    v_[i].mul_(opt_.beta2).addcmul_(g, g, 1.0 - opt_.beta2);
    const at::Tensor denom = (v_[i].sqrt() / bc2_sqrt).add_(opt_.eps);
    p.addcdiv_(m_[i], denom, -step_size);
  }
}

void AdamW::restore(int64_t steps, const std::vector<at::Tensor>& m, const std::vector<at::Tensor>& v) {
  NTKS_CHECK(m.size() == params_.size() && v.size() == params_.size(), "{} / {} moments for {} parameters", m.size(),
             v.size(), params_.size());
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    NTKS_CHECK(m[i].sizes() == params_[i].sizes() && v[i].sizes() == params_[i].sizes(),
               "moment {} has shape {} / {}, parameter {}", i, c10::str(m[i].sizes()), c10::str(v[i].sizes()),
               c10::str(params_[i].sizes()));
    m_[i].copy_(m[i]);
    v_[i].copy_(v[i]);
  }
  steps_ = steps;
}

}  // namespace ntks::train
