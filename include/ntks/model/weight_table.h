#pragma once
// The tensors of a Llama / Qwen3 checkpoint: Hugging Face names, shapes and
// roles, in the order Hugging Face writes them. One table serves loading
// (Decoder::load), saving a trained model (save_model) and writing random
// checkpoints (make-model), so the three can never disagree on a name.

#include <cstdint>
#include <string>
#include <vector>

#include "ntks/model/hf_config.h"

namespace ntks::model {

/// Where a checkpoint tensor lives in the decoder.
enum class WeightSlot {
  embed,          ///< model.embed_tokens.weight
  final_norm,     ///< model.norm.weight
  lm_head,        ///< lm_head.weight (absent when tied)
  input_norm,     ///< model.layers.N.input_layernorm.weight
  post_norm,      ///< model.layers.N.post_attention_layernorm.weight
  q_norm,         ///< model.layers.N.self_attn.q_norm.weight (Qwen3)
  k_norm,         ///< model.layers.N.self_attn.k_norm.weight (Qwen3)
  proj_weight,    ///< model.layers.N.{self_attn,mlp}.<module>.weight
  proj_bias,      ///< its bias (attention_bias / mlp_bias)
};

struct WeightEntry {
  std::string name;            ///< Hugging Face tensor name
  std::vector<int64_t> shape;  ///< as config.json implies
  WeightSlot slot;
  int layer = -1;              ///< decoder layer; -1 for embed, final_norm, lm_head
  int module = -1;             ///< index into kLoraModules for proj_weight / proj_bias
  /// RMSNorm weights (init 1); everything else is a matrix, embedding or bias.
  bool is_norm() const {
    return slot == WeightSlot::final_norm || slot == WeightSlot::input_norm || slot == WeightSlot::post_norm ||
           slot == WeightSlot::q_norm || slot == WeightSlot::k_norm;
  }
};

/// Every tensor a checkpoint of `c` holds, in Hugging Face's order.
std::vector<WeightEntry> weight_table(const HfConfig& c);

}  // namespace ntks::model
