// PEFT LoRA adapter folders <-> Decoder adapters.

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>

#include "ntks/model/adapter.h"
#include "ntks/model/safetensors.h"
#include "ntks/model/weights.h"
#include "ntks/util/error.h"
#include "ntks/util/files.h"

namespace ntks::model {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kConfigFile = "adapter_config.json";
constexpr const char* kWeightsFile = "adapter_model.safetensors";

std::string module_path(size_t layer, size_t m) {
  return fmt::format("model.layers.{}.{}.{}", layer, m < 4 ? "self_attn" : "mlp", kLoraModules[m]);
}

/// PEFT's saved key for a module's lora_A / lora_B.
std::string peft_key(size_t layer, size_t m, const char* ab) {
  return fmt::format("base_model.model.{}.{}.weight", module_path(layer, m), ab);
}

/// Does PEFT's target_modules (a list of names, or a regex string matched
/// against the full module path) select this module?
bool targeted(const json& targets, size_t layer, size_t m) {
  if (targets.is_string()) return std::regex_match(module_path(layer, m), std::regex(targets.get<std::string>()));
  for (const auto& t : targets)
    if (t.is_string() && t.get<std::string>() == kLoraModules[m]) return true;
  return false;
}

template <class T>
T get_or(const json& j, const char* key, T fallback, const std::string& file) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  try {
    return j[key].get<T>();
  } catch (const json::exception&) {
    throw InputError(fmt::format("{}: key '{}' has the wrong type ({})", file, key, j[key].dump()));
  }
}

bool empty_or_null(const json& j, const char* key) {
  return !j.contains(key) || j[key].is_null() || j[key].empty();
}

}  // namespace

void save_adapter(const Decoder& decoder, const std::string& dir, const std::string& base_model) {
  const LoraSpec& spec = decoder.lora_spec();
  fs::create_directories(dir);
  std::vector<TensorBytes> tensors;
  const auto& layers = decoder.layers();
  for (size_t i = 0; i < layers.size(); ++i)
    for (size_t m = 0; m < kLoraModules.size(); ++m) {
      const Linear& lin = layers[i].proj[m];
      if (!lin.has_lora()) continue;
      tensors.push_back(tensor_bytes(peft_key(i, m, "lora_A"), lin.lora().a.to(at::kFloat)));
      tensors.push_back(tensor_bytes(peft_key(i, m, "lora_B"), lin.lora().b.to(at::kFloat)));
    }
  write_safetensors((fs::path(dir) / kWeightsFile).string(), tensors, {{"format", "pt"}});
  json cfg = {{"peft_type", "LORA"},
              {"task_type", "CAUSAL_LM"},
              {"base_model_name_or_path", base_model},
              {"r", spec.r},
              {"lora_alpha", spec.alpha},
              {"lora_dropout", spec.dropout},
              {"target_modules", spec.targets},
              {"bias", "none"},
              {"fan_in_fan_out", false},
              {"inference_mode", true},
              {"init_lora_weights", true},
              {"use_rslora", spec.use_rslora},
              {"use_dora", false},
              {"modules_to_save", nullptr},
              {"layers_to_transform", nullptr},
              {"rank_pattern", json::object()},
              {"alpha_pattern", json::object()}};
  write_file_atomic((fs::path(dir) / kConfigFile).string(), cfg.dump(2) + "\n");
}

void load_adapter(Decoder& decoder, const std::string& dir) {
  const std::string cfg_path = (fs::path(dir) / kConfigFile).string();
  json cfg;
  try {
    cfg = json::parse(read_file(cfg_path));
  } catch (const json::exception& e) {
    throw InputError(fmt::format("{}: not valid JSON ({})", cfg_path, e.what()));
  }
  if (!cfg.is_object()) throw InputError(fmt::format("{}: expected a JSON object", cfg_path));
  if (get_or<std::string>(cfg, "peft_type", "LORA", cfg_path) != "LORA")
    throw InputError(fmt::format("{}: peft_type '{}' is not supported (LORA only)", cfg_path, cfg["peft_type"].dump()));
  if (get_or<bool>(cfg, "use_dora", false, cfg_path))
    throw InputError(fmt::format("{}: DoRA adapters (use_dora) are not supported", cfg_path));
  for (const char* key : {"rank_pattern", "alpha_pattern", "modules_to_save"})
    if (!empty_or_null(cfg, key)) throw InputError(fmt::format("{}: '{}' is not supported", cfg_path, key));
  if (get_or<std::string>(cfg, "bias", "none", cfg_path) != "none")
    throw InputError(fmt::format("{}: trained biases (bias != \"none\") are not supported", cfg_path));
  if (get_or<bool>(cfg, "fan_in_fan_out", false, cfg_path))
    throw InputError(fmt::format("{}: fan_in_fan_out adapters (GPT-2 Conv1D) do not apply to Llama/Qwen3", cfg_path));
  if (!cfg.contains("r") || !cfg.contains("target_modules"))
    throw InputError(fmt::format("{}: needs the keys 'r' and 'target_modules'", cfg_path));

  LoraSpec spec;
  spec.r = get_or<int64_t>(cfg, "r", 8, cfg_path);
  spec.alpha = get_or<double>(cfg, "lora_alpha", 8, cfg_path);
  spec.dropout = get_or<double>(cfg, "lora_dropout", 0, cfg_path);
  spec.use_rslora = get_or<bool>(cfg, "use_rslora", false, cfg_path);
  const json& targets = cfg["target_modules"];
  if (!targets.is_string() && !targets.is_array())
    throw InputError(fmt::format("{}: target_modules must be a list or a regex string", cfg_path));
  spec.targets.clear();
  for (size_t m = 0; m < kLoraModules.size(); ++m)
    for (size_t i = 0; i < decoder.layers().size(); ++i)
      if (targeted(targets, i, m)) {
        spec.targets.push_back(kLoraModules[m]);
        break;
      }
  if (spec.r < 1 || spec.targets.empty())
    throw InputError(fmt::format("{}: r = {} and target_modules {} select no projection of this model", cfg_path,
                                 spec.r, targets.dump()));

  const std::string weights_path = (fs::path(dir) / kWeightsFile).string();
  WeightStore store = WeightStore::open(weights_path);
  std::vector<std::string> problems;
  decoder.remove_lora();
  auto& layers = decoder.layers();
  for (size_t i = 0; i < layers.size(); ++i)
    for (size_t m = 0; m < kLoraModules.size(); ++m) {
      std::string ka = peft_key(i, m, "lora_A"), kb = peft_key(i, m, "lora_B");
      const bool has = store.has(ka) || store.has(kb);
      if (!has) continue;  // e.g. layers_to_transform: PEFT saves only adapted layers
      if (!targeted(targets, i, m)) {
        problems.push_back(fmt::format("{} is not selected by target_modules", module_path(i, m)));
        continue;
      }
      Linear& lin = layers[i].proj[m];
      std::vector<int64_t> want_a = {spec.r, lin.in_features()}, want_b = {lin.out_features(), spec.r};
      if (!store.has(ka) || !store.has(kb)) {
        problems.push_back(fmt::format("{} has only one of lora_A / lora_B", module_path(i, m)));
        continue;
      }
      if (store.get(ka).shape != want_a || store.get(kb).shape != want_b) {
        problems.push_back(fmt::format("{}: lora_A/lora_B shapes do not match r = {} and the base layer [{} x {}]",
                                       module_path(i, m), spec.r, lin.out_features(), lin.in_features()));
        continue;
      }
      LoraWeights w;
      w.a = tensor_from_view(store.get(ka), store.keep_alive()).to(decoder.device(), at::kFloat).clone();
      w.b = tensor_from_view(store.get(kb), store.keep_alive()).to(decoder.device(), at::kFloat).clone();
      w.scaling = spec.scaling();
      w.dropout = spec.dropout;
      lin.set_lora(std::move(w));
    }
  if (decoder.lora_parameters().empty()) problems.push_back("no lora_A/lora_B tensor matches this model's layers");
  if (!problems.empty()) {
    decoder.remove_lora();
    std::string msg = fmt::format("adapter {} does not fit the model:", dir);
    for (const auto& p : problems) msg += "\n  " + p;
    throw InputError(msg);
  }
  decoder.set_lora_spec(spec);
}

}  // namespace ntks::model
