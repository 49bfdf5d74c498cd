// Decoder's base weights by checkpoint entry: loading, saving and
// full-parameter training address them through weight_table().

#include "ntks/model/decoder.h"
#include <fmt/format.h>

#include "ntks/util/error.h"

namespace ntks::model {

const at::Tensor& Decoder::weight(const WeightEntry& e) const {
  return const_cast<Decoder*>(this)->weight(e);
}

at::Tensor& Decoder::weight(const WeightEntry& e) {
  auto layer = [&]() -> DecoderLayer& {
    NTKS_CHECK(e.layer >= 0 && e.layer < static_cast<int>(layers_.size()), "{}: layer {} of {}", e.name, e.layer,
               layers_.size());
    return layers_[static_cast<size_t>(e.layer)];
  };
  auto proj = [&]() -> Linear& {
    NTKS_CHECK(e.module >= 0 && e.module < static_cast<int>(kLoraModules.size()), "{}: module {}", e.name, e.module);
    return layer().proj[static_cast<size_t>(e.module)];
  };
  switch (e.slot) {
    case WeightSlot::embed: return embed_;
    case WeightSlot::final_norm: return final_norm_;
    case WeightSlot::lm_head: return lm_head_;
    case WeightSlot::input_norm: return layer().input_norm;
    case WeightSlot::post_norm: return layer().post_attention_norm;
    case WeightSlot::q_norm: return layer().q_norm;
    case WeightSlot::k_norm: return layer().k_norm;
    case WeightSlot::proj_weight: return proj().mutable_weight();
    case WeightSlot::proj_bias: return proj().mutable_bias();
  }
  NTKS_CHECK(false, "{}: unknown weight slot", e.name);
  return embed_;
}

std::vector<std::pair<WeightEntry, at::Tensor>> Decoder::named_weights() const {
  std::vector<std::pair<WeightEntry, at::Tensor>> out;
  for (const WeightEntry& e : weight_table(cfg_)) out.emplace_back(e, weight(e));
  return out;
}

std::vector<std::string> Decoder::lora_parameter_names() const {
  std::vector<std::string> names;
  for (size_t i = 0; i < layers_.size(); ++i)
    for (size_t m = 0; m < kLoraModules.size(); ++m)
      if (layers_[i].proj[m].has_lora())
        for (const char* ab : {"lora_A", "lora_B"})
          names.push_back(fmt::format("layers.{}.{}.{}", i, kLoraModules[m], ab));
  return names;
}

void Decoder::own_weights() {
  torch::NoGradGuard no_grad;
  for (const WeightEntry& e : weight_table(cfg_)) {
    at::Tensor& w = weight(e);
    w = w.clone(at::MemoryFormat::Contiguous);
  }
  if (cfg_.tie_word_embeddings) lm_head_ = embed_;
}

}  // namespace ntks::model
