#pragma once
// AdamW with PyTorch's semantics (torch.optim.AdamW, amsgrad off): decoupled
// weight decay p ← p (1 - lr·wd) first, then the bias-corrected Adam step
//   m ← β1 m + (1-β1) g,  v ← β2 v + (1-β2) g²,
//   p ← p - lr/(1-β1^t) · m / (sqrt(v)/sqrt(1-β2^t) + eps).
// Our own so that the learning rate is an argument of each step (the
// schedule) and the arithmetic is a fixed sequence of element-wise ops, which
// keeps the weights bitwise identical on every rank given the same gradient.

#include <torch/torch.h>

#include <vector>

namespace ntks::train {

struct AdamWOptions {
  double beta1 = 0.9;        ///< first-moment decay (PyTorch and Hugging Face default)
  double beta2 = 0.999;      ///< second-moment decay
  double eps = 1e-8;         ///< added to the denominator (Hugging Face's adam_epsilon)
  double weight_decay = 0;   ///< decoupled decay factor (paper: 0)
};

class AdamW {
 public:
  /// Updates `params` in place (the tensors are shared with their owner).
  /// `decay[i]`: whether weight decay applies to params[i] (empty: to all);
  /// pretraining leaves norms and biases out, as is usual.
  AdamW(std::vector<at::Tensor> params, AdamWOptions options, std::vector<bool> decay = {});

  /// One step; grads[i] has params[i]'s shape. Runs without autograd.
  void step(const std::vector<at::Tensor>& grads, double lr);
  int64_t steps() const { return steps_; }
  const std::vector<at::Tensor>& first_moments() const { return m_; }
  const std::vector<at::Tensor>& second_moments() const { return v_; }
  /// Continues from a checkpoint: `steps` taken, with these moments (copied;
  /// shapes must match the parameters').
  void restore(int64_t steps, const std::vector<at::Tensor>& m, const std::vector<at::Tensor>& v);

 private:
  std::vector<at::Tensor> params_, m_, v_;
  std::vector<bool> decay_;
  AdamWOptions opt_;
  int64_t steps_ = 0;
};

}  // namespace ntks::train
