#include "ntks/select/metadata.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "ntks/util/error.h"

namespace ntks::select {
namespace {

using json = nlohmann::json;

json parse(const std::string& path, const std::string& text) {
  try {
    json j = json::parse(text);
    if (j.is_object()) return j;
  } catch (const json::exception&) {
  }
  throw InputError(fmt::format("{}: its metadata is not a JSON object: not written by ntk-select", path));
}

// Dotted names of the leaves where a and b differ.
void differences(const json& a, const json& b, const std::string& at, std::vector<std::string>& out) {
  if (a.is_object() && b.is_object()) {
    for (const auto& [k, v] : a.items())
      differences(v, b.contains(k) ? b.at(k) : json(), at.empty() ? k : at + "." + k, out);
    for (const auto& [k, v] : b.items())
      if (!a.contains(k)) differences(json(), v, at.empty() ? k : at + "." + k, out);
  } else if (a != b) {
    out.push_back(at);
  }
}

}  // namespace

void check_same_grads_settings(const std::string& path_a, const std::string& metadata_a, const std::string& path_b,
                               const std::string& metadata_b) {
  json a = parse(path_a, metadata_a), b = parse(path_b, metadata_b);
  for (json* j : {&a, &b}) {
    j->erase("corpus");
    // Which candidates were computed (--ids-file, --preselected) is not a
    // setting: the domain files never have it, the candidate files may.
    if (j->contains("stage") && j->at("stage").is_object()) {
      j->at("stage").erase("ids");
      j->at("stage").erase("preselected");
    }
  }
  std::vector<std::string> keys;
  differences(a, b, "", keys);
  if (keys.empty()) return;
  std::string list;
  for (const std::string& k : keys) list += (list.empty() ? "" : ", ") + k;
  throw InputError(fmt::format("{} and {} come from different model, adapter or grads settings (they differ in: {}): "
                               "rerun `ntk-select grads` so both use the same ones",
                               path_a, path_b, list));
}

void check_corpus(const std::string& path, const std::string& metadata, const std::vector<std::string>& files,
                  const std::string& key) {
  const json m = parse(path, metadata);
  json want = json::array();
  for (const std::string& f : files) want.push_back(std::filesystem::absolute(f).string());
  const json got = m.contains("corpus") ? m.at("corpus") : json();
  if (got != want)
    throw InputError(fmt::format("{} was computed over the files {}, but {} is now {}: rerun the stages after "
                                 "changing {}",
                                 path, got.dump(), key, want.dump(), key));
}

}  // namespace ntks::select
