#pragma once
// A frozen projection with an optional LoRA adapter (PEFT semantics):
//   y = W x (+ b) + scaling * B A dropout(x)
// The adapter weights are fp32 whatever the base dtype; the LoRA branch runs
// in fp32 on x cast to fp32 and the sum is cast back to the base dtype, as
// PEFT does with its default adapter autocast.

#include <torch/torch.h>

#include <vector>

namespace ntks::model {

struct LoraWeights {
  at::Tensor a;         ///< lora_A [r, in], fp32
  at::Tensor b;         ///< lora_B [out, r], fp32
  double scaling = 1;   ///< alpha / r (alpha / sqrt(r) with rsLoRA)
  double dropout = 0;   ///< on x, training only
};

/// What one LoRA module saw in a forward pass; per-sample gradients (the
/// grads stage) are built from these: x the branch input, u = A x, and
/// y = scaling * B u, each [batch, tokens, features].
struct LoraTrace {
  int layer;
  int module;  ///< index into kLoraModules
  at::Tensor x, u, y;
};

/// Options of one forward pass.
struct ForwardContext {
  bool training = false;                   ///< dropout on
  std::vector<LoraTrace>* trace = nullptr; ///< when set, every LoRA module appends its trace
};

class Linear {
 public:
  Linear() = default;
  Linear(at::Tensor weight, at::Tensor bias) : weight_(std::move(weight)), bias_(std::move(bias)) {}

  at::Tensor forward(const at::Tensor& x, const ForwardContext& ctx, int layer, int module) const;

  const at::Tensor& weight() const { return weight_; }
  const at::Tensor& bias() const { return bias_; }
  /// For loading and full-parameter training (the tensors are replaced, or
  /// updated in place once they own their memory).
  at::Tensor& mutable_weight() { return weight_; }
  at::Tensor& mutable_bias() { return bias_; }
  int64_t in_features() const { return weight_.size(1); }
  int64_t out_features() const { return weight_.size(0); }

  bool has_lora() const { return lora_.a.defined(); }
  LoraWeights& lora() { return lora_; }
  const LoraWeights& lora() const { return lora_; }
  void set_lora(LoraWeights w) { lora_ = std::move(w); }
  void clear_lora() { lora_ = LoraWeights{}; }

 private:
  at::Tensor weight_;  ///< [out, in], compute dtype
  at::Tensor bias_;    ///< [out] or undefined
  LoraWeights lora_;
};

}  // namespace ntks::model
