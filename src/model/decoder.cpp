// Decoder forward pass (Hugging Face eager semantics).

#include <limits>

#include "ntks/model/decoder.h"

namespace ntks::model {

int lora_module_index(const std::string& name) {
  for (size_t i = 0; i < kLoraModules.size(); ++i)
    if (name == kLoraModules[i]) return static_cast<int>(i);
  return -1;
}

at::Tensor Decoder::attention_block(const DecoderLayer& layer, int index, const at::Tensor& x, const at::Tensor& cos,
                                    const at::Tensor& sin, const at::Tensor& bias, const ForwardContext& ctx) const {
  const int64_t B = x.size(0), T = x.size(1), D = cfg_.head_dim;
  auto project = [&](int m, int64_t heads) {
    return layer.proj[m].forward(x, ctx, index, m).view({B, T, heads, D});
  };
  at::Tensor q = project(0, cfg_.num_heads);
  at::Tensor k = project(1, cfg_.num_kv_heads);
  at::Tensor v = project(2, cfg_.num_kv_heads);
  if (layer.q_norm.defined()) {  // Qwen3: per-head norms before RoPE
    q = rms_norm(q, layer.q_norm, cfg_.rms_norm_eps);
    k = rms_norm(k, layer.k_norm, cfg_.rms_norm_eps);
  }
  q = apply_rope(q.transpose(1, 2), cos, sin);
  k = apply_rope(k.transpose(1, 2), cos, sin);
  v = v.transpose(1, 2);
  const int64_t n_rep = cfg_.num_heads / cfg_.num_kv_heads;
  at::Tensor out = attention(q, repeat_kv(k, n_rep), repeat_kv(v, n_rep), bias);
  out = out.transpose(1, 2).reshape({B, T, cfg_.num_heads * D});
  return layer.proj[3].forward(out, ctx, index, 3);
}

at::Tensor Decoder::mlp_block(const DecoderLayer& layer, int index, const at::Tensor& x,
                              const ForwardContext& ctx) const {
  at::Tensor gate = layer.proj[4].forward(x, ctx, index, 4);
  at::Tensor up = layer.proj[5].forward(x, ctx, index, 5);
  return layer.proj[6].forward(torch::silu(gate) * up, ctx, index, 6);
}

at::Tensor Decoder::hidden_states(const at::Tensor& ids, const at::Tensor& mask, const ForwardContext& ctx) const {
  const int64_t T = ids.size(1);
  at::Tensor real = mask.to(device_).to(at::kBool);
  at::Tensor positions = (real.to(at::kLong).cumsum(1) - 1).clamp_min(0);
  auto [cos, sin] = rope_.tables(positions, dtype_);

  // Query i may attend key j when j <= i and j is a real token. Elsewhere the
  // lowest finite value (not -inf), so fully padded rows stay finite.
  at::Tensor causal = torch::ones({T, T}, torch::TensorOptions().dtype(at::kBool).device(device_)).tril();
  at::Tensor allowed = causal.unsqueeze(0).logical_and(real.unsqueeze(1)).unsqueeze(1);  // [B,1,T,T]
  const double lowest = dtype_ == at::kBFloat16 ? -3.3895313892515355e38
                        : dtype_ == at::kHalf   ? -65504.0
                                                : static_cast<double>(std::numeric_limits<float>::lowest());
  at::Tensor bias = torch::zeros(allowed.sizes(), torch::TensorOptions().dtype(dtype_).device(device_))
                        .masked_fill(allowed.logical_not(), lowest);

  at::Tensor h = torch::embedding(embed_, ids.to(device_));
  for (size_t i = 0; i < layers_.size(); ++i) {
    const DecoderLayer& layer = layers_[i];
    const int idx = static_cast<int>(i);
    h = h + attention_block(layer, idx, rms_norm(h, layer.input_norm, cfg_.rms_norm_eps), cos, sin, bias, ctx);
    h = h + mlp_block(layer, idx, rms_norm(h, layer.post_attention_norm, cfg_.rms_norm_eps), ctx);
  }
  return rms_norm(h, final_norm_, cfg_.rms_norm_eps);
}

at::Tensor Decoder::logits(const at::Tensor& hidden) const { return torch::matmul(hidden, lm_head_.t()); }

at::Tensor Decoder::lm_head_row_sum() const { return lm_head_.to(at::kFloat).sum(0); }

}  // namespace ntks::model
