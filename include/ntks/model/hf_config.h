#pragma once
// A Hugging Face config.json, reduced to what the decoder needs.
//
// Supported: LlamaForCausalLM and Qwen3ForCausalLM. Accepts the key spellings
// of old and new transformers releases: rope_scaling {"rope_type"|"type"},
// rope_parameters (newer), torch_dtype | dtype.

#include <cstdint>
#include <string>
#include <vector>

namespace ntks::model {

enum class Arch { llama, qwen3 };

struct RopeScaling {
  std::string type = "default";  ///< default | linear | llama3
  double factor = 1;
  double low_freq_factor = 1;               ///< llama3
  double high_freq_factor = 4;              ///< llama3
  std::int64_t original_max_position = 8192;  ///< llama3: original_max_position_embeddings
};

struct HfConfig {
  Arch arch = Arch::llama;
  std::string architecture;        ///< as written: "LlamaForCausalLM"
  std::int64_t vocab_size = 0;
  std::int64_t hidden_size = 0;
  std::int64_t intermediate_size = 0;
  std::int64_t num_layers = 0;
  std::int64_t num_heads = 0;
  std::int64_t num_kv_heads = 0;   ///< defaults to num_heads
  std::int64_t head_dim = 0;       ///< llama: hidden/heads unless given; qwen3: given, default 128
  double rope_theta = 10000;
  RopeScaling rope_scaling;
  double rms_norm_eps = 1e-6;
  bool tie_word_embeddings = false;
  bool attention_bias = false;     ///< bias on q/k/v/o projections
  bool mlp_bias = false;           ///< bias on gate/up/down (llama option)
  std::int64_t max_position_embeddings = 2048;
  std::string torch_dtype = "float32";  ///< dtype the checkpoint was saved in
  std::int64_t bos_token_id = -1;
  std::vector<std::int64_t> eos_token_ids;
  std::int64_t pad_token_id = -1;
};

/// Parses <dir>/config.json (or the given file). Throws InputError naming the
/// file and key; an unsupported architecture lists the supported ones.
HfConfig load_hf_config(const std::string& path);
/// Parses config.json text; `source` names it in errors.
HfConfig parse_hf_config(const std::string& json_text, const std::string& source);
/// config.json text for `cfg` in Hugging Face's spelling (make-model writes it).
std::string hf_config_json(const HfConfig& cfg);

/// Names of the supported architectures, for messages and --help.
std::vector<std::string> supported_architectures();

}  // namespace ntks::model
