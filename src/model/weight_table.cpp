#include "ntks/model/weight_table.h"

#include <fmt/format.h>

#include "ntks/model/decoder.h"

namespace ntks::model {

std::vector<WeightEntry> weight_table(const HfConfig& c) {
  const int64_t H = c.hidden_size, I = c.intermediate_size, D = c.head_dim;
  const int64_t q_out = c.num_heads * D, kv_out = c.num_kv_heads * D;
  // [out, in] of each projection, indexed like kLoraModules.
  const std::array<std::pair<int64_t, int64_t>, 7> shapes = {
      {{q_out, H}, {kv_out, H}, {kv_out, H}, {H, q_out}, {I, H}, {I, H}, {H, I}}};
  std::vector<WeightEntry> t;
  t.push_back({"model.embed_tokens.weight", {c.vocab_size, H}, WeightSlot::embed});
  for (int layer = 0; layer < static_cast<int>(c.num_layers); ++layer) {
    const std::string p = fmt::format("model.layers.{}.", layer);
    auto proj = [&](int m, WeightSlot slot) {
      const std::string name = p + (m < 4 ? "self_attn." : "mlp.") + kLoraModules[static_cast<size_t>(m)] +
                               (slot == WeightSlot::proj_weight ? ".weight" : ".bias");
      const auto [out, in] = shapes[static_cast<size_t>(m)];
      std::vector<int64_t> shape = slot == WeightSlot::proj_weight ? std::vector<int64_t>{out, in}
                                                                   : std::vector<int64_t>{out};
      t.push_back({name, shape, slot, layer, m});
    };
    t.push_back({p + "input_layernorm.weight", {H}, WeightSlot::input_norm, layer});
    t.push_back({p + "post_attention_layernorm.weight", {H}, WeightSlot::post_norm, layer});
    for (int m = 0; m < 4; ++m) proj(m, WeightSlot::proj_weight);
    if (c.attention_bias)
      for (int m = 0; m < 4; ++m) proj(m, WeightSlot::proj_bias);
    if (c.arch == Arch::qwen3) {
      t.push_back({p + "self_attn.q_norm.weight", {D}, WeightSlot::q_norm, layer});
      t.push_back({p + "self_attn.k_norm.weight", {D}, WeightSlot::k_norm, layer});
    }
    for (int m = 4; m < 7; ++m) proj(m, WeightSlot::proj_weight);
    if (c.mlp_bias)
      for (int m = 4; m < 7; ++m) proj(m, WeightSlot::proj_bias);
  }
  t.push_back({"model.norm.weight", {H}, WeightSlot::final_norm});
  if (!c.tie_word_embeddings) t.push_back({"lm_head.weight", {c.vocab_size, H}, WeightSlot::lm_head});
  return t;
}

}  // namespace ntks::model
