#pragma once
// Writes a decoder's base weights as a Hugging Face model folder
// (config.json + model.safetensors), the way `pretrain` hands over its model.

#include <map>
#include <string>

#include "ntks/model/decoder.h"

namespace ntks::model {

/// Writes config.json and model.safetensors (the weights in `dtype`, default
/// fp32; tensor names and order of weight_table) into `dir` (created), each
/// file atomically. `metadata` goes into the safetensors header.
void save_model(const Decoder& decoder, const std::string& dir, at::ScalarType dtype = at::kFloat,
                const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

}  // namespace ntks::model
