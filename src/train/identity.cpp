// What a training run depends on (identity.h), and how two runs differ.

#include "ntks/train/identity.h"

#include <nlohmann/json.hpp>
#include <sstream>

#include <fmt/format.h>

#include "ntks/config/load.h"
#include "ntks/pipeline/fingerprint.h"
#include "ntks/util/strings.h"

namespace ntks::train {
namespace {

using nlohmann::ordered_json;

ordered_json file_identity(const std::string& path) {
  const pipeline::FileFingerprint f = pipeline::fingerprint_file(path);
  ordered_json j = {{"path", f.path}, {"size", f.size}, {"hash", f.hash}};
  if (!f.whole) j["mtime_ns"] = f.mtime_ns;  // large files are hashed at head and tail only
  return j;
}

}  // namespace

std::string tokenizer_path(const config::Config& cfg) {
  return cfg.model.tokenizer.empty() ? cfg.model.path + "/tokenizer.json" : cfg.model.tokenizer;
}

std::string run_identity(const config::Config& cfg, const std::function<bool(const std::string&)>& wanted,
                         const std::vector<std::string>& data_files) {
  ordered_json keys = ordered_json::object();
  std::istringstream lines(config::canonical_text(cfg));
  for (std::string line; std::getline(lines, line);) {
    const size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = line.substr(0, eq);
    if (wanted(key)) keys[key] = line.substr(eq + 1);
  }
  ordered_json corpus = ordered_json::array();
  for (const std::string& f : data_files) corpus.push_back(file_identity(f));
  const ordered_json id = {{"config", keys},
                           {"init_model", pipeline::model_digest(cfg.model.path)},
                           {"tokenizer", file_identity(tokenizer_path(cfg))},
                           {"corpus", corpus}};
  return id.dump();
}

std::string identity_differences(const std::string& before, const std::string& now, const std::string& data_key) {
  const ordered_json a = ordered_json::parse(before), b = ordered_json::parse(now);
  std::vector<std::string> diffs;
  const ordered_json& ka = a.at("config");
  const ordered_json& kb = b.at("config");
  for (const auto& [key, value] : kb.items()) {
    const std::string old = ka.contains(key) ? ka[key].get<std::string>() : std::string("(absent)");
    if (old != value.get<std::string>()) diffs.push_back(fmt::format("{}: {} -> {}", key, old, value.get<std::string>()));
  }
  for (const auto& [key, value] : ka.items())
    if (!kb.contains(key)) diffs.push_back(fmt::format("{}: {} -> (absent)", key, value.get<std::string>()));
  if (a.at("init_model") != b.at("init_model"))
    diffs.push_back(fmt::format("the model at model.path changed: digest {} -> {}", a.at("init_model").dump(),
                                b.at("init_model").dump()));
  auto same_file = [](const ordered_json& x, const ordered_json& y) {
    return x.at("size") == y.at("size") && x.at("hash") == y.at("hash") &&
           x.value("mtime_ns", int64_t{0}) == y.value("mtime_ns", int64_t{0});
  };
  if (!same_file(a.at("tokenizer"), b.at("tokenizer")))
    diffs.push_back(fmt::format("tokenizer {} changed", b.at("tokenizer").at("path").get<std::string>()));
  const ordered_json &ca = a.at("corpus"), &cb = b.at("corpus");
  if (ca.size() != cb.size()) {
    diffs.push_back(fmt::format("{}: {} file(s) -> {}", data_key, ca.size(), cb.size()));
  } else {
    for (size_t i = 0; i < cb.size(); ++i) {
      if (ca[i].at("path") != cb[i].at("path")) {
        diffs.push_back(fmt::format("{}[{}]: {} -> {}", data_key, i, ca[i].at("path").get<std::string>(),
                                    cb[i].at("path").get<std::string>()));
      } else if (!same_file(ca[i], cb[i])) {
        diffs.push_back(fmt::format("{} {} changed", data_key, cb[i].at("path").get<std::string>()));
      }
    }
  }
  return join(diffs, "; ");
}

}  // namespace ntks::train
