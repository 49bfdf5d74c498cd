#pragma once
// PEFT LoRA adapter folders: adapter_config.json + adapter_model.safetensors
// with PEFT's key names (base_model.model.model.layers.N.self_attn.q_proj.lora_A.weight),
// so an adapter written here loads in Hugging Face PEFT and one made there loads here.

#include <string>

#include "ntks/model/decoder.h"

namespace ntks::model {

/// Writes the decoder's adapter (fp32) atomically into `dir` (created).
void save_adapter(const Decoder& decoder, const std::string& dir, const std::string& base_model = "");

/// Reads a PEFT LoRA adapter and attaches it (replacing any adapter). Errors
/// name the file and key: unsupported PEFT features (DoRA, per-layer rank
/// patterns, layers_to_transform, bias training), missing or mis-shaped tensors.
void load_adapter(Decoder& decoder, const std::string& dir);

}  // namespace ntks::model
