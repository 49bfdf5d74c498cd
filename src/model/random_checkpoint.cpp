#include "ntks/model/random_checkpoint.h"

#include <filesystem>

#include <fmt/format.h>

#include "ntks/model/adapter.h"
#include "ntks/model/weights.h"
#include "ntks/util/files.h"

namespace ntks::model {

void write_random_checkpoint(const std::string& dir, const RandomCheckpointOptions& opt) {
  namespace fs = std::filesystem;
  HfConfig c = opt.config;
  c.torch_dtype = opt.dtype == StDType::BF16 ? "bfloat16" : opt.dtype == StDType::F16 ? "float16" : "float32";
  at::Generator gen = at::detail::createCPUGenerator(opt.seed);
  const at::ScalarType dtype = torch_dtype(opt.dtype);
  std::vector<TensorBytes> tensors;
  auto normal = [&](const std::string& name, std::vector<int64_t> shape, double mean, double std) {
    at::Tensor t = at::empty(shape, at::kFloat).normal_(mean, std, gen);
    tensors.push_back(tensor_bytes(name, t.to(dtype)));
  };
  const int64_t H = c.hidden_size, I = c.intermediate_size, D = c.head_dim;
  normal("model.embed_tokens.weight", {c.vocab_size, H}, 0, opt.init_std);
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const std::string p = fmt::format("model.layers.{}.", i);
    normal(p + "input_layernorm.weight", {H}, 1, 0.1);
    normal(p + "post_attention_layernorm.weight", {H}, 1, 0.1);
    normal(p + "self_attn.q_proj.weight", {c.num_heads * D, H}, 0, opt.init_std);
    normal(p + "self_attn.k_proj.weight", {c.num_kv_heads * D, H}, 0, opt.init_std);
    normal(p + "self_attn.v_proj.weight", {c.num_kv_heads * D, H}, 0, opt.init_std);
    normal(p + "self_attn.o_proj.weight", {H, c.num_heads * D}, 0, opt.init_std);
    if (c.attention_bias) {
      normal(p + "self_attn.q_proj.bias", {c.num_heads * D}, 0, opt.init_std);
      normal(p + "self_attn.k_proj.bias", {c.num_kv_heads * D}, 0, opt.init_std);
      normal(p + "self_attn.v_proj.bias", {c.num_kv_heads * D}, 0, opt.init_std);
      normal(p + "self_attn.o_proj.bias", {H}, 0, opt.init_std);
    }
    if (c.arch == Arch::qwen3) {
      normal(p + "self_attn.q_norm.weight", {D}, 1, 0.1);
      normal(p + "self_attn.k_norm.weight", {D}, 1, 0.1);
    }
    normal(p + "mlp.gate_proj.weight", {I, H}, 0, opt.init_std);
    normal(p + "mlp.up_proj.weight", {I, H}, 0, opt.init_std);
    normal(p + "mlp.down_proj.weight", {H, I}, 0, opt.init_std);
  }
  normal("model.norm.weight", {H}, 1, 0.1);
  if (!c.tie_word_embeddings) normal("lm_head.weight", {c.vocab_size, H}, 0, opt.init_std);

  fs::create_directories(dir);
  write_checkpoint(dir, tensors, opt.shards, {{"format", "pt"}});
  write_file_atomic((fs::path(dir) / "config.json").string(), hf_config_json(c));
}

void write_random_adapter(const std::string& model_dir, const std::string& adapter_dir, const LoraSpec& spec,
                          std::uint64_t seed) {
  Decoder d = Decoder::load(model_dir, at::kFloat, at::kCPU);
  d.add_lora(spec, seed);
  at::Generator gen = at::detail::createCPUGenerator(seed + 1);
  for (auto& layer : d.layers())
    for (auto& lin : layer.proj)
      if (lin.has_lora()) lin.lora().b = at::empty(lin.lora().b.sizes(), at::kFloat).normal_(0, 0.05, gen);
  save_adapter(d, adapter_dir, model_dir);
}

}  // namespace ntks::model
