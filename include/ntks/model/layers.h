#pragma once
// The building blocks of a Llama/Qwen3 decoder layer, as Hugging Face
// computes them (DESIGN §9).

#include <torch/torch.h>

#include "ntks/model/hf_config.h"

namespace ntks::model {

/// RMSNorm: x in fp32, x * rsqrt(mean(x^2) + eps), cast back to x's dtype,
/// then times the weight.
at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps);

/// Rotary embedding tables for a config: inverse frequencies in fp32 with the
/// config's rope scaling (default, linear, llama3).
class Rope {
 public:
  Rope() = default;
  Rope(const HfConfig& cfg, at::Device device);
  /// cos and sin [batch, tokens, head_dim] for position ids [batch, tokens],
  /// computed in fp32 and cast to `dtype`.
  std::pair<at::Tensor, at::Tensor> tables(const at::Tensor& positions, at::ScalarType dtype) const;
  const at::Tensor& inv_freq() const { return inv_freq_; }

 private:
  at::Tensor inv_freq_;  ///< [head_dim / 2], fp32
};

/// x * cos + rotate_half(x) * sin for x [batch, heads, tokens, head_dim] and
/// tables [batch, tokens, head_dim]; dimension i pairs with i + head_dim/2.
at::Tensor apply_rope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin);

/// Causal attention over [batch, heads, tokens, head_dim] with kv heads
/// already expanded; `bias` [batch, 1, tokens, tokens] is 0 where a query may
/// attend and the dtype's lowest value elsewhere. Scores in the compute
/// dtype, softmax in fp32 (eager Hugging Face); LibTorch >= 2 uses
/// scaled_dot_product_attention with the same mask.
at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& bias);

/// Key/value heads [b, kv, t, d] -> [b, kv * n_rep, t, d]: query head h
/// reads kv head h / n_rep.
at::Tensor repeat_kv(const at::Tensor& x, int64_t n_rep);

}  // namespace ntks::model
