// What a pretraining run's weights depend on, and how two runs differ.

#include <nlohmann/json.hpp>
#include <sstream>

#include <fmt/format.h>

#include "ntks/config/load.h"
#include "ntks/pipeline/fingerprint.h"
#include "ntks/train/pretrain.h"
#include "ntks/util/strings.h"

namespace ntks::train {
namespace {

using nlohmann::ordered_json;

/// Keys that change what is reported or where, never the weights.
bool reporting_key(const std::string& key) {
  return key == "pretrain.out" || key == "pretrain.eval_every" || key == "pretrain.eval_sequences" ||
         key == "pretrain.checkpoint_every";
}

ordered_json file_identity(const std::string& path) {
  const pipeline::FileFingerprint f = pipeline::fingerprint_file(path);
  ordered_json j = {{"path", f.path}, {"size", f.size}, {"hash", f.hash}};
  if (!f.whole) j["mtime_ns"] = f.mtime_ns;  // large files are hashed at head and tail only
  return j;
}

}  // namespace

std::string pretrain_identity(const config::Config& cfg) {
  ordered_json keys = ordered_json::object();
  std::istringstream lines(config::canonical_text(cfg));
  for (std::string line; std::getline(lines, line);) {
    const size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = line.substr(0, eq);
    const bool wanted = (key.rfind("pretrain.", 0) == 0 && !reporting_key(key)) || key == "run.seed" ||
                        key == "model.dtype";
    // The corpus files enter as fingerprints below, not as paths.
    if (wanted && key != "pretrain.corpus") keys[key] = line.substr(eq + 1);
  }
  ordered_json corpus = ordered_json::array();
  for (const std::string& f : cfg.pretrain.corpus) corpus.push_back(file_identity(f));
  const std::string tokenizer = cfg.model.tokenizer.empty() ? cfg.model.path + "/tokenizer.json" : cfg.model.tokenizer;
  const ordered_json id = {{"config", keys},
                           {"init_model", pipeline::model_digest(cfg.model.path)},
                           {"tokenizer", file_identity(tokenizer)},
                           {"corpus", corpus}};
  return id.dump();
}

std::string identity_differences(const std::string& before, const std::string& now) {
  const ordered_json a = ordered_json::parse(before), b = ordered_json::parse(now);
  std::vector<std::string> diffs;
  const ordered_json& ka = a.at("config");
  const ordered_json& kb = b.at("config");
  for (const auto& [key, value] : kb.items()) {
    const std::string old = ka.contains(key) ? ka[key].get<std::string>() : std::string("(absent)");
    if (old != value.get<std::string>()) diffs.push_back(fmt::format("{}: {} -> {}", key, old, value.get<std::string>()));
  }
  if (a.at("init_model") != b.at("init_model"))
    diffs.push_back(fmt::format("initial model (model.path) changed: digest {} -> {}", a.at("init_model").dump(),
                                b.at("init_model").dump()));
  auto same_file = [](const ordered_json& x, const ordered_json& y) {
    return x.at("size") == y.at("size") && x.at("hash") == y.at("hash") && x.value("mtime_ns", int64_t{0}) == y.value("mtime_ns", int64_t{0});
  };
  if (!same_file(a.at("tokenizer"), b.at("tokenizer")))
    diffs.push_back(fmt::format("tokenizer {} changed", b.at("tokenizer").at("path").get<std::string>()));
  const ordered_json &ca = a.at("corpus"), &cb = b.at("corpus");
  if (ca.size() != cb.size()) {
    diffs.push_back(fmt::format("pretrain.corpus: {} file(s) -> {}", ca.size(), cb.size()));
  } else {
    for (size_t i = 0; i < cb.size(); ++i) {
      if (ca[i].at("path") != cb[i].at("path")) {
        diffs.push_back(fmt::format("pretrain.corpus[{}]: {} -> {}", i, ca[i].at("path").get<std::string>(),
                                    cb[i].at("path").get<std::string>()));
      } else if (!same_file(ca[i], cb[i])) {
        diffs.push_back(fmt::format("corpus {} changed", cb[i].at("path").get<std::string>()));
      }
    }
  }
  return join(diffs, "; ");
}

}  // namespace ntks::train
