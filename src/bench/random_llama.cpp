#include "random_llama.h"

#include <torch/torch.h>  // the precompiled header (decoder.h needs it)
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "ntks/model/random_checkpoint.h"

namespace ntks::bench {

model::Decoder random_llama(const LlamaShape& shape, at::ScalarType dtype, at::Device device) {
  namespace fs = std::filesystem;
  model::RandomCheckpointOptions ck;
  model::HfConfig& c = ck.config;
  c.arch = model::Arch::llama;
  c.architecture = "LlamaForCausalLM";
  c.num_layers = shape.layers;
  c.hidden_size = shape.hidden;
  c.intermediate_size = shape.intermediate;
  c.num_heads = shape.heads;
  c.num_kv_heads = shape.kv_heads;
  c.head_dim = shape.hidden / shape.heads;
  c.vocab_size = shape.vocab;
  c.max_position_embeddings = std::max<int64_t>(2048, shape.max_seq_len);
  const fs::path dir = fs::temp_directory_path() / ("ntks-bench-" + std::to_string(::getpid()));
  model::write_random_checkpoint(dir.string(), ck);
  model::Decoder dec = model::Decoder::load(dir.string(), dtype, device);
  fs::remove_all(dir);
  return dec;
}

double layer_matmul_params(const model::HfConfig& c) {
  const int64_t H = c.hidden_size, D = c.head_dim;
  return static_cast<double>(H * c.num_heads * D * 2 + H * c.num_kv_heads * D * 2 + 3 * H * c.intermediate_size);
}

double forward_flops_per_token(const model::HfConfig& c, int64_t seq_len) {
  return static_cast<double>(c.num_layers) *
         (2 * layer_matmul_params(c) + 4.0 * static_cast<double>(seq_len * c.num_heads * c.head_dim));
}

double params_millions(const model::HfConfig& c) {
  return (layer_matmul_params(c) * static_cast<double>(c.num_layers) + 2.0 * static_cast<double>(c.vocab_size * c.hidden_size)) / 1e6;
}

}  // namespace ntks::bench
