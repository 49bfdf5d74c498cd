// config.json -> HfConfig with the defaults of transformers' LlamaConfig and
// Qwen3Config, accepting the spellings of old and new releases. Anything the
// decoder would silently get wrong (a rope type it lacks, sliding windows, an
// activation other than SiLU) is refused here with the key named.

#include "ntks/model/hf_config.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "ntks/util/error.h"
#include "ntks/util/files.h"

namespace ntks::model {

namespace {

using nlohmann::json;

struct ArchInfo {
  Arch arch;
  const char* architecture;
  const char* model_type;
};

constexpr ArchInfo kArchs[] = {
    {Arch::llama, "LlamaForCausalLM", "llama"},
    {Arch::qwen3, "Qwen3ForCausalLM", "qwen3"},
};

const ArchInfo& arch_info(Arch a) {
  for (const auto& info : kArchs) {
    if (info.arch == a) return info;
  }
  throw InternalError(fmt::format("unknown Arch {}", static_cast<int>(a)));
}

const std::vector<std::string> kRopeTypes = {"default", "linear", "llama3"};
const std::vector<std::string> kConfigDTypes = {"float32", "float16", "bfloat16", "float64"};

// Typed access to the keys of one JSON object; errors name the source and the
// key's full path ("rope_scaling.factor"). A key set to null counts as absent,
// as it does for transformers.
class Keys {
 public:
  Keys(const json& obj, const std::string& source, std::string prefix = "")
      : obj_(obj), source_(source), prefix_(std::move(prefix)) {}

  const json* find(const char* key) const {
    const auto it = obj_.find(key);
    return it == obj_.end() || it->is_null() ? nullptr : &*it;
  }
  bool has(const char* key) const { return find(key) != nullptr; }

  std::int64_t required_int(const char* key, const char* why) const {
    const json* v = find(key);
    if (v == nullptr) {
      throw InputError(fmt::format("{}: key '{}{}' is missing ({})", source_, prefix_, key, why));
    }
    return to_int(key, *v);
  }
  std::int64_t int_or(const char* key, std::int64_t fallback) const {
    const json* v = find(key);
    return v == nullptr ? fallback : to_int(key, *v);
  }
  double required_number(const char* key, const char* why) const {
    const json* v = find(key);
    if (v == nullptr) {
      throw InputError(fmt::format("{}: key '{}{}' is missing ({})", source_, prefix_, key, why));
    }
    return to_number(key, *v);
  }
  double number_or(const char* key, double fallback) const {
    const json* v = find(key);
    return v == nullptr ? fallback : to_number(key, *v);
  }
  bool bool_or(const char* key, bool fallback) const {
    const json* v = find(key);
    if (v == nullptr) return fallback;
    if (!v->is_boolean()) wrong(key, *v, "true or false");
    return v->get<bool>();
  }
  std::string string_or(const char* key, const std::string& fallback) const {
    const json* v = find(key);
    if (v == nullptr) return fallback;
    if (!v->is_string()) wrong(key, *v, "a string");
    return v->get<std::string>();
  }
  /// An int, or a list of ints (eos_token_id); empty when absent.
  std::vector<std::int64_t> int_list(const char* key) const {
    const json* v = find(key);
    if (v == nullptr) return {};
    if (!v->is_array()) return {to_int(key, *v)};
    std::vector<std::int64_t> out;
    for (const auto& item : *v) {
      if (!item.is_number_integer()) wrong(key, *v, "an integer or a list of integers");
      out.push_back(item.get<std::int64_t>());
    }
    return out;
  }

  std::int64_t to_int(const char* key, const json& v) const {
    if (v.is_number_unsigned()) {
      if (v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) wrong(key, v, "an integer");
      return static_cast<std::int64_t>(v.get<std::uint64_t>());
    }
    if (v.is_number_integer()) return v.get<std::int64_t>();
    // Python writes 8192.0 when a float slipped in; transformers would use it.
    if (v.is_number_float()) {
      const double d = v.get<double>();
      if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15) {
        return static_cast<std::int64_t>(d);
      }
    }
    wrong(key, v, "an integer");
  }
  double to_number(const char* key, const json& v) const {
    if (!v.is_number()) wrong(key, v, "a number");
    return v.get<double>();
  }
  [[noreturn]] void wrong(const char* key, const json& v, const char* expected) const {
    throw InputError(fmt::format("{}: key '{}{}' is {}, expected {}", source_, prefix_, key,
                                 v.dump(), expected));
  }
  [[noreturn]] void bad(const char* key, const std::string& what) const {
    throw InputError(fmt::format("{}: key '{}{}' {}", source_, prefix_, key, what));
  }

 private:
  const json& obj_;
  const std::string& source_;
  std::string prefix_;
};

// Which architecture: architectures[0] when given, else model_type; the two
// must agree when both are given (transformers builds the model from model_type).
const ArchInfo& find_arch(const Keys& keys, const std::string& source) {
  std::vector<std::string> supported = supported_architectures();
  const std::string list = fmt::format("supported: {}", fmt::join(supported, ", "));
  const ArchInfo* by_arch = nullptr;
  if (const json* archs = keys.find("architectures")) {
    if (!archs->is_array() || archs->empty() || !(*archs)[0].is_string()) {
      keys.wrong("architectures", *archs, "a list of class names like [\"LlamaForCausalLM\"]");
    }
    const std::string name = (*archs)[0].get<std::string>();
    for (const auto& info : kArchs) {
      if (name == info.architecture) by_arch = &info;
    }
    if (by_arch == nullptr) {
      throw InputError(fmt::format("{}: architecture '{}' is not supported ({})", source, name, list));
    }
  }
  const std::string model_type = keys.string_or("model_type", "");
  if (model_type.empty()) {
    if (by_arch != nullptr) return *by_arch;
    throw InputError(fmt::format("{}: neither 'architectures' nor 'model_type' is set ({})", source,
                                 list));
  }
  if (by_arch != nullptr) {
    if (model_type != by_arch->model_type) {
      throw InputError(fmt::format("{}: architecture '{}' needs model_type '{}', the config says "
                                   "'{}'", source, by_arch->architecture, by_arch->model_type,
                                   model_type));
    }
    return *by_arch;
  }
  for (const auto& info : kArchs) {
    if (model_type == info.model_type) return info;
  }
  throw InputError(fmt::format("{}: model_type '{}' is not supported ({}; model_type llama or "
                               "qwen3)", source, model_type, list));
}

// rope_scaling or rope_parameters; `prefix` names it in errors.
RopeScaling parse_rope(const json& obj, const std::string& source, const std::string& prefix,
                       bool type_required) {
  if (!obj.is_object()) {
    throw InputError(fmt::format("{}: key '{}' is {}, expected null or a map", source,
                                 prefix.substr(0, prefix.size() - 1), obj.dump()));
  }
  const Keys keys(obj, source, prefix);
  for (const auto& [key, value] : obj.items()) {
    if (value.is_object()) {
      keys.bad(key.c_str(), "is a map: per-layer-type rope parameters are not supported");
    }
  }
  RopeScaling rope;
  // transformers reads "rope_type" first and falls back to the legacy "type".
  const char* type_key = keys.has("rope_type") ? "rope_type" : "type";
  if (!keys.has(type_key) && type_required) {
    keys.bad("rope_type", "is missing (expected one of default, linear, llama3)");
  }
  rope.type = keys.string_or(type_key, "default");
  if (std::find(kRopeTypes.begin(), kRopeTypes.end(), rope.type) == kRopeTypes.end()) {
    keys.bad(type_key, fmt::format("is '{}': this rope type is not supported (supported: {})",
                                   rope.type, fmt::join(kRopeTypes, ", ")));
  }
  if (rope.type == "default") return rope;
  const std::string why = fmt::format("required by rope type {}", rope.type);
  rope.factor = keys.required_number("factor", why.c_str());
  if (!(rope.factor >= 1)) keys.bad("factor", fmt::format("is {}, expected >= 1", rope.factor));
  if (rope.type == "llama3") {
    rope.low_freq_factor = keys.required_number("low_freq_factor", why.c_str());
    rope.high_freq_factor = keys.required_number("high_freq_factor", why.c_str());
    rope.original_max_position =
        keys.required_int("original_max_position_embeddings", why.c_str());
    if (!(rope.low_freq_factor > 0 && rope.low_freq_factor < rope.high_freq_factor)) {
      keys.bad("low_freq_factor", fmt::format("is {} with high_freq_factor {}: expected 0 < low < "
                                              "high", rope.low_freq_factor, rope.high_freq_factor));
    }
    if (rope.original_max_position <= 0) {
      keys.bad("original_max_position_embeddings",
               fmt::format("is {}, expected > 0", rope.original_max_position));
    }
  }
  return rope;
}

std::int64_t positive(const Keys& keys, const char* key, std::int64_t v) {
  if (v <= 0) keys.bad(key, fmt::format("is {}, expected a positive integer", v));
  return v;
}

}  // namespace

std::vector<std::string> supported_architectures() {
  std::vector<std::string> out;
  for (const auto& info : kArchs) out.emplace_back(info.architecture);
  return out;
}

HfConfig parse_hf_config(const std::string& json_text, const std::string& source) {
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::exception& e) {
    throw InputError(fmt::format("{}: not valid JSON: {}", source, e.what()));
  }
  if (!root.is_object()) {
    throw InputError(fmt::format("{}: a config.json must be a JSON object, this is {}", source,
                                 root.type_name()));
  }
  const Keys keys(root, source);
  const ArchInfo& arch = find_arch(keys, source);
  const bool qwen3 = arch.arch == Arch::qwen3;
  const std::string why = fmt::format("required for {}", arch.architecture);

  HfConfig c;
  c.arch = arch.arch;
  c.architecture = arch.architecture;
  c.vocab_size = positive(keys, "vocab_size", keys.required_int("vocab_size", why.c_str()));
  c.hidden_size = positive(keys, "hidden_size", keys.required_int("hidden_size", why.c_str()));
  c.intermediate_size =
      positive(keys, "intermediate_size", keys.required_int("intermediate_size", why.c_str()));
  c.num_layers =
      positive(keys, "num_hidden_layers", keys.required_int("num_hidden_layers", why.c_str()));
  c.num_heads =
      positive(keys, "num_attention_heads", keys.required_int("num_attention_heads", why.c_str()));
  c.num_kv_heads =
      positive(keys, "num_key_value_heads", keys.int_or("num_key_value_heads", c.num_heads));
  if (c.num_heads % c.num_kv_heads != 0) {
    keys.bad("num_key_value_heads", fmt::format("is {}, which does not divide num_attention_heads "
                                                "{}", c.num_kv_heads, c.num_heads));
  }

  if (keys.has("head_dim")) {
    c.head_dim = positive(keys, "head_dim", keys.int_or("head_dim", 0));
  } else if (qwen3) {
    c.head_dim = 128;  // Qwen3Config's default, not hidden_size / heads
  } else {
    if (c.hidden_size % c.num_heads != 0) {
      keys.bad("hidden_size", fmt::format("is {}, not a multiple of num_attention_heads {} (and no "
                                          "head_dim is given)", c.hidden_size, c.num_heads));
    }
    c.head_dim = c.hidden_size / c.num_heads;
  }
  if (c.head_dim % 2 != 0) {
    keys.bad("head_dim", fmt::format("is {}: rotary embeddings need an even head size", c.head_dim));
  }

  c.rope_theta = keys.number_or("rope_theta", 10000);
  if (const json* params = keys.find("rope_parameters")) {
    // transformers 5: rope_parameters replaces rope_scaling and rope_theta.
    c.rope_scaling = parse_rope(*params, source, "rope_parameters.", false);
    c.rope_theta = Keys(*params, source, "rope_parameters.").number_or("rope_theta", c.rope_theta);
  } else if (const json* scaling = keys.find("rope_scaling")) {
    c.rope_scaling = parse_rope(*scaling, source, "rope_scaling.", true);
  }
  if (!(c.rope_theta > 0)) keys.bad("rope_theta", fmt::format("is {}, expected > 0", c.rope_theta));

  c.rms_norm_eps = keys.number_or("rms_norm_eps", 1e-6);
  if (!(c.rms_norm_eps > 0)) keys.bad("rms_norm_eps", fmt::format("is {}, expected > 0", c.rms_norm_eps));
  c.tie_word_embeddings = keys.bool_or("tie_word_embeddings", false);
  c.attention_bias = keys.bool_or("attention_bias", false);
  // Qwen3's MLP has no bias whatever the config says.
  c.mlp_bias = qwen3 ? false : keys.bool_or("mlp_bias", false);
  c.max_position_embeddings = positive(keys, "max_position_embeddings",
                                       keys.int_or("max_position_embeddings", qwen3 ? 32768 : 2048));

  const std::string act = keys.string_or("hidden_act", "silu");
  if (act != "silu" && act != "swish") {
    keys.bad("hidden_act", fmt::format("is '{}': only silu is supported", act));
  }
  if (qwen3) {
    if (keys.bool_or("use_sliding_window", false)) {
      keys.bad("use_sliding_window", "is true: sliding-window attention is not supported");
    }
    if (const json* types = keys.find("layer_types")) {
      if (!types->is_array()) keys.wrong("layer_types", *types, "a list of layer types");
      for (const auto& t : *types) {
        if (t != "full_attention") {
          keys.bad("layer_types", fmt::format("has {}: only full_attention is supported", t.dump()));
        }
      }
    }
  }

  // transformers 5 writes "dtype", older releases "torch_dtype".
  const char* dtype_key = keys.has("dtype") ? "dtype" : "torch_dtype";
  std::string dtype = keys.string_or(dtype_key, "float32");
  if (dtype.rfind("torch.", 0) == 0) dtype = dtype.substr(6);
  if (std::find(kConfigDTypes.begin(), kConfigDTypes.end(), dtype) == kConfigDTypes.end()) {
    keys.bad(dtype_key, fmt::format("is '{}', expected one of {}", dtype, fmt::join(kConfigDTypes, ", ")));
  }
  c.torch_dtype = dtype;

  c.bos_token_id = keys.int_or("bos_token_id", -1);
  c.eos_token_ids = keys.int_list("eos_token_id");
  c.pad_token_id = keys.int_or("pad_token_id", -1);
  return c;
}

HfConfig load_hf_config(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const std::string file =
      fs::is_directory(path, ec) ? (fs::path(path) / "config.json").string() : path;
  if (!fs::is_regular_file(file, ec)) throw InputError(fmt::format("{}: no such file", file));
  return parse_hf_config(read_file(file), file);
}

std::string hf_config_json(const HfConfig& c) {
  const ArchInfo& arch = arch_info(c.arch);
  nlohmann::ordered_json j;
  j["architectures"] = {arch.architecture};
  j["model_type"] = arch.model_type;
  j["vocab_size"] = c.vocab_size;
  j["hidden_size"] = c.hidden_size;
  j["intermediate_size"] = c.intermediate_size;
  j["num_hidden_layers"] = c.num_layers;
  j["num_attention_heads"] = c.num_heads;
  j["num_key_value_heads"] = c.num_kv_heads;
  j["head_dim"] = c.head_dim;
  j["hidden_act"] = "silu";
  j["max_position_embeddings"] = c.max_position_embeddings;
  j["rms_norm_eps"] = c.rms_norm_eps;
  j["rope_theta"] = c.rope_theta;
  if (c.rope_scaling.type == "default") {
    j["rope_scaling"] = nullptr;
  } else {
    nlohmann::ordered_json rope;
    rope["rope_type"] = c.rope_scaling.type;
    rope["factor"] = c.rope_scaling.factor;
    if (c.rope_scaling.type == "llama3") {
      rope["low_freq_factor"] = c.rope_scaling.low_freq_factor;
      rope["high_freq_factor"] = c.rope_scaling.high_freq_factor;
      rope["original_max_position_embeddings"] = c.rope_scaling.original_max_position;
    }
    j["rope_scaling"] = rope;
  }
  j["tie_word_embeddings"] = c.tie_word_embeddings;
  j["attention_bias"] = c.attention_bias;
  j["attention_dropout"] = 0.0;
  if (c.arch == Arch::llama) {
    j["mlp_bias"] = c.mlp_bias;
  } else {
    j["use_sliding_window"] = false;
    j["sliding_window"] = nullptr;
    j["max_window_layers"] = c.num_layers;
  }
  j["initializer_range"] = 0.02;
  j["use_cache"] = true;
  j["torch_dtype"] = c.torch_dtype;
  j["bos_token_id"] = c.bos_token_id >= 0 ? nlohmann::ordered_json(c.bos_token_id) : nullptr;
  if (c.eos_token_ids.empty()) {
    j["eos_token_id"] = nullptr;
  } else if (c.eos_token_ids.size() == 1) {
    j["eos_token_id"] = c.eos_token_ids.front();
  } else {
    j["eos_token_id"] = c.eos_token_ids;
  }
  j["pad_token_id"] = c.pad_token_id >= 0 ? nlohmann::ordered_json(c.pad_token_id) : nullptr;
  return j.dump(2) + "\n";
}

}  // namespace ntks::model
