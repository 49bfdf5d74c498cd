#pragma once
// Random checkpoints in Hugging Face format, for tests and demos (no weights
// can be downloaded on the machines this is developed on).

#include <cstdint>
#include <string>

#include "ntks/model/decoder.h"
#include "ntks/model/hf_config.h"
#include "ntks/model/safetensors.h"

namespace ntks::model {

struct RandomCheckpointOptions {
  HfConfig config;
  StDType dtype = StDType::F32;  ///< storage dtype of the weights (config.json torch_dtype follows)
  int shards = 1;                ///< >1: model-0000i-of-0000n.safetensors + index
  std::uint64_t seed = 0;
  double init_std = 0.02;        ///< N(0, std) for projections and embeddings (HF's initializer_range)
  /// The start of a pretraining run rather than a test model: norm weights 1
  /// and biases 0 (Hugging Face's init), and the projections that write into
  /// the residual stream (o_proj, down_proj) at init_std / sqrt(2 x layers),
  /// GPT-2's scaling, which keeps the residual's variance from growing with
  /// depth at the start of training.
  bool pretrain_init = false;
};

/// Writes config.json and the weights into `dir`. Unless pretrain_init, norm
/// weights are 1 + N(0, 0.1^2) rather than HF's ones, so tests notice a
/// misapplied norm.
void write_random_checkpoint(const std::string& dir, const RandomCheckpointOptions& opt);

/// Writes a PEFT adapter for the checkpoint in `model_dir` with random A and
/// B (B is not zero, unlike a fresh adapter), for LoRA tests.
void write_random_adapter(const std::string& model_dir, const std::string& adapter_dir, const LoraSpec& spec,
                          std::uint64_t seed);

}  // namespace ntks::model
