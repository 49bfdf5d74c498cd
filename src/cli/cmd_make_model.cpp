// `ntk-select make-model`: a random checkpoint in Hugging Face format.

#include <filesystem>

#include "command.h"
#include "inputs.h"
#include "ntks/log/log.h"
#include "ntks/model/random_checkpoint.h"
#include "ntks/tokenizer/tokenizer.h"
#include "ntks/util/error.h"
#include "ntks/util/strings.h"

namespace ntks::cli {
namespace {

model::RopeScaling parse_rope_scaling(const std::string& s) {
  model::RopeScaling r;
  std::vector<std::string> parts = split(s, ':');
  auto num = [&](size_t i) {
    try {
      return std::stod(parts.at(i));
    } catch (const std::exception&) {
      throw UsageError(fmt::format("--rope-scaling '{}': part {} is not a number", s, i + 1));
    }
  };
  if (parts[0] == "none" && parts.size() == 1) return r;
  if (parts[0] == "linear" && parts.size() == 2) {
    r.type = "linear";
    r.factor = num(1);
  } else if (parts[0] == "llama3" && parts.size() == 5) {
    r.type = "llama3";
    r.factor = num(1);
    r.low_freq_factor = num(2);
    r.high_freq_factor = num(3);
    r.original_max_position = static_cast<int64_t>(num(4));
  } else {
    throw UsageError(fmt::format("--rope-scaling '{}': expected none, linear:FACTOR or "
                                 "llama3:FACTOR:LOW_FREQ:HIGH_FREQ:ORIGINAL_MAX_POSITION", s));
  }
  return r;
}

int make_model_main(Context& ctx) {
  const auto& a = ctx.args;
  if (!ctx.comm.is_root()) return 0;
  model::RandomCheckpointOptions opt;
  model::HfConfig& c = opt.config;
  const std::string arch = a["arch"].as<std::string>();
  if (arch == "llama") {
    c.arch = model::Arch::llama;
    c.architecture = "LlamaForCausalLM";
  } else if (arch == "qwen3") {
    c.arch = model::Arch::qwen3;
    c.architecture = "Qwen3ForCausalLM";
  } else {
    throw UsageError(fmt::format("--arch '{}': expected llama or qwen3", arch));
  }
  c.num_layers = a["layers"].as<int64_t>();
  c.hidden_size = a["hidden"].as<int64_t>();
  c.intermediate_size = a["intermediate"].as<int64_t>();
  c.num_heads = a["heads"].as<int64_t>();
  c.num_kv_heads = a["kv-heads"].as<int64_t>();
  c.head_dim = a["head-dim"].as<int64_t>();
  c.vocab_size = a["vocab"].as<int64_t>();
  std::string tokenizer_file;
  if (a.count("tokenizer")) {
    // The vocabulary follows the tokenizer, rounded up to a multiple of 64
    // (GEMM-friendly); the tokenizer files go into the folder, so that it is
    // a complete model for pretrain and the selection.
    tokenizer_file = a["tokenizer"].as<std::string>();
    const tokenizer::Tokenizer tok = tokenizer::Tokenizer::load(tokenizer_file);
    if (!a["vocab"].defaulted() && c.vocab_size < tok.vocab_size())
      throw UsageError(fmt::format("--vocab {} is smaller than the {} ids of --tokenizer {}", c.vocab_size,
                                   tok.vocab_size(), tokenizer_file));
    if (a["vocab"].defaulted()) c.vocab_size = (tok.vocab_size() + 63) / 64 * 64;
    for (const char* eos : {"<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end_of_text|>", "</s>"})
      if (tok.token_id(eos) >= 0) c.eos_token_ids.push_back(tok.token_id(eos));
    for (const char* pad : {"<|endoftext|>", "<|end_of_text|>", "<pad>"})
      if (tok.token_id(pad) >= 0) {
        c.pad_token_id = tok.token_id(pad);
        break;
      }
  }
  c.tie_word_embeddings = a.count("tied") > 0;
  c.rope_theta = a["rope-theta"].as<double>();
  c.rope_scaling = parse_rope_scaling(a["rope-scaling"].as<std::string>());
  c.max_position_embeddings = a["max-position"].as<int64_t>();
  c.rms_norm_eps = a["rms-eps"].as<double>();
  for (auto [name, v] : {std::pair{"layers", c.num_layers}, {"hidden", c.hidden_size}, {"intermediate", c.intermediate_size},
                         {"heads", c.num_heads}, {"kv-heads", c.num_kv_heads}, {"vocab", c.vocab_size}})
    if (v < 1) throw UsageError(fmt::format("--{} must be at least 1, got {}", name, v));
  if (c.head_dim == 0) {
    if (c.hidden_size % c.num_heads != 0)
      throw UsageError(fmt::format("--hidden {} is not divisible by --heads {}; give --head-dim", c.hidden_size, c.num_heads));
    c.head_dim = c.hidden_size / c.num_heads;
  }
  if (c.head_dim % 2 != 0) throw UsageError(fmt::format("--head-dim {} must be even (rotary pairs)", c.head_dim));
  if (c.num_heads % c.num_kv_heads != 0)
    throw UsageError(fmt::format("--heads {} is not a multiple of --kv-heads {}", c.num_heads, c.num_kv_heads));
  const std::string dtype = a["dtype"].as<std::string>();
  switch (dtype_option("dtype", dtype)) {
    case config::DType::fp32: opt.dtype = model::StDType::F32; break;
    case config::DType::bf16: opt.dtype = model::StDType::BF16; break;
    case config::DType::fp16: opt.dtype = model::StDType::F16; break;
  }
  opt.shards = a["shards"].as<int>();
  if (opt.shards < 1) throw UsageError("--shards must be at least 1");
  opt.seed = a["seed"].as<uint64_t>();
  opt.init_std = a["init-std"].as<double>();
  opt.pretrain_init = a.count("pretrain-init") > 0;

  const std::string out = a["out"].as<std::string>();
  model::write_random_checkpoint(out, opt);
  if (!tokenizer_file.empty()) {
    namespace fs = std::filesystem;
    fs::copy_file(tokenizer_file, fs::path(out) / "tokenizer.json", fs::copy_options::overwrite_existing);
    const fs::path tok_cfg = fs::path(tokenizer_file).parent_path() / "tokenizer_config.json";
    if (fs::exists(tok_cfg))
      fs::copy_file(tok_cfg, fs::path(out) / "tokenizer_config.json", fs::copy_options::overwrite_existing);
  }
  log::info("wrote a random {} checkpoint to {}: {} layers, hidden {}, heads {}/{} (kv), head_dim {}, vocab {}, {}",
            c.architecture, out, c.num_layers, c.hidden_size, c.num_heads, c.num_kv_heads, c.head_dim, c.vocab_size,
            dtype);
  if (a.count("lora-out")) {
    model::LoraSpec spec;
    spec.r = a["lora-r"].as<int64_t>();
    spec.alpha = a["lora-alpha"].as<double>();
    spec.dropout = 0;
    spec.targets = split(a["lora-targets"].as<std::string>(), ',');
    model::write_random_adapter(out, a["lora-out"].as<std::string>(), spec, opt.seed + 1000);
    log::info("wrote a random LoRA adapter (r {}, alpha {}) to {}", spec.r, spec.alpha, a["lora-out"].as<std::string>());
  }
  return 0;
}

}  // namespace

Command make_model_command() {
  Command c;
  c.name = "make-model";
  c.summary = "write a random Llama or Qwen3 checkpoint in Hugging Face format (tests, demos)";
  c.description =
      "Writes config.json and safetensors weights (sharded with --shards) that Hugging Face\n"
      "transformers and ntk-select load alike; optionally a random PEFT LoRA adapter. With\n"
      "--pretrain-init --tokenizer TOK it is the starting point of `ntk-select pretrain`.";
  c.options = [](po::options_description& o) {
    o.add_options()
        ("arch", po::value<std::string>()->required(), "llama or qwen3")
        ("out", po::value<std::string>()->required(), "output folder")
        ("layers", po::value<int64_t>()->default_value(2), "decoder layers")
        ("hidden", po::value<int64_t>()->default_value(64), "hidden size")
        ("intermediate", po::value<int64_t>()->default_value(128), "MLP intermediate size")
        ("heads", po::value<int64_t>()->default_value(4), "attention heads")
        ("kv-heads", po::value<int64_t>()->default_value(2), "key/value heads (GQA; must divide --heads)")
        ("head-dim", po::value<int64_t>()->default_value(0), "head dimension; 0: hidden / heads")
        ("vocab", po::value<int64_t>()->default_value(256), "vocabulary size")
        ("tokenizer", po::value<std::string>(),
         "a tokenizer.json the model is for: --vocab defaults to its size rounded up to a multiple of 64, "
         "eos/pad ids go into config.json, and it (with its tokenizer_config.json) is copied into --out")
        ("tied", "tie the output projection to the embedding (no lm_head.weight)")
        ("dtype", po::value<std::string>()->default_value("fp32"), "storage dtype: fp32, bf16 or fp16")
        ("shards", po::value<int>()->default_value(1), "number of safetensors files (>1 writes an index)")
        ("seed", po::value<uint64_t>()->default_value(0), "random seed")
        ("init-std", po::value<double>()->default_value(0.02), "standard deviation of weights")
        ("pretrain-init", "initialise for pretraining from scratch: norms 1, biases 0, o_proj and down_proj at "
         "init-std / sqrt(2 x layers) (default: norms 1 + N(0, 0.1^2), so tests notice a misapplied norm)")
        ("rope-theta", po::value<double>()->default_value(10000), "RoPE base")
        ("rope-scaling", po::value<std::string>()->default_value("none"),
         "none, linear:FACTOR or llama3:FACTOR:LOW_FREQ:HIGH_FREQ:ORIGINAL_MAX_POSITION")
        ("max-position", po::value<int64_t>()->default_value(2048), "max_position_embeddings")
        ("rms-eps", po::value<double>()->default_value(1e-6), "RMSNorm epsilon")
        ("lora-out", po::value<std::string>(), "also write a random PEFT LoRA adapter (A and B non-zero) here")
        ("lora-r", po::value<int64_t>()->default_value(8), "adapter rank")
        ("lora-alpha", po::value<double>()->default_value(16), "adapter alpha")
        ("lora-targets", po::value<std::string>()->default_value("q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj"),
         "comma-separated projections that get adapters");
  };
  c.run = make_model_main;
  return c;
}

}  // namespace ntks::cli
