#pragma once
// Tiny random checkpoints for the model tests.

#include "ntks/model/random_checkpoint.h"
#include "test_util.h"

namespace ntks::testing {

inline model::HfConfig tiny_config(model::Arch arch = model::Arch::llama) {
  model::HfConfig c;
  c.arch = arch;
  c.architecture = arch == model::Arch::llama ? "LlamaForCausalLM" : "Qwen3ForCausalLM";
  c.vocab_size = 50;
  c.hidden_size = 32;
  c.intermediate_size = 48;
  c.num_layers = 2;
  c.num_heads = 4;
  c.num_kv_heads = 2;
  c.head_dim = arch == model::Arch::qwen3 ? 12 : 8;
  c.max_position_embeddings = 128;
  return c;
}

/// Writes a random checkpoint into dir/name and returns its path.
inline std::string tiny_checkpoint(const TempDir& dir, const std::string& name,
                                   model::Arch arch = model::Arch::llama, std::uint64_t seed = 1) {
  model::RandomCheckpointOptions opt;
  opt.config = tiny_config(arch);
  opt.seed = seed;
  opt.init_std = 0.1;
  std::string path = dir.file(name);
  model::write_random_checkpoint(path, opt);
  return path;
}

}  // namespace ntks::testing
