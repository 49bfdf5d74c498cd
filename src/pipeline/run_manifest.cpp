// RUN/manifest.json: what a complete `ntk-select run` was made from (config
// hash, input fingerprints, versions) and what each stage did.

#include <filesystem>
#include <nlohmann/json.hpp>

#include "ntks/config/load.h"
#include "ntks/pipeline/fingerprint.h"
#include "ntks/pipeline/stage.h"
#include "ntks/util/files.h"
#include "versions.h"

namespace ntks::pipeline {

namespace fs = std::filesystem;
using nlohmann::json;

std::string run_manifest_path(const config::Config& cfg) {
  return (fs::path(cfg.run.dir) / "manifest.json").string();
}

void write_run_manifest(const config::Config& cfg, int ranks, const std::vector<StageTiming>& stages,
                        double seconds) {
  json inputs = json::object();
  const auto fp = [](const std::string& path) {
    const FileFingerprint f = fingerprint_file(path);
    return json{{"path", f.path}, {"exists", f.exists}, {"bytes", f.size}, {"mtime_ns", f.mtime_ns},
                {"hash", f.hash}, {"whole", f.whole}};
  };
  json model = json::array();
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(cfg.model.path, ec))
    if (e.is_regular_file()) files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) model.push_back(fp(f));
  inputs["model"] = model;
  if (!cfg.model.tokenizer.empty()) inputs["tokenizer"] = fp(cfg.model.tokenizer);
  inputs["domain"] = fp(cfg.data.domain);
  json candidates = json::array();
  for (const auto& f : cfg.data.candidates) candidates.push_back(fp(f));
  inputs["candidates"] = candidates;

  json per_stage = json::array();
  for (const StageTiming& t : stages) {
    const StageSummary s = read_summary(cfg, t.stage);
    json counts = json::object();
    for (const auto& [label, n] : s.counts) counts[label] = n;
    per_stage.push_back({{"stage", t.stage},
                         {"status", t.status},
                         {"seconds", t.seconds},
                         {"counts", counts},
                         {"manifest", manifest_path(cfg, t.stage)},
                         {"digest", s.digest}});
  }
  const json m = {{"format", 1},
                  {"config_hash", config::hash(cfg)},
                  {"config", config::dump_yaml(cfg, false)},
                  {"inputs", inputs},
                  {"versions", detail::software_versions()},
                  {"ranks", ranks},
                  {"stages", per_stage},
                  {"seconds", seconds}};
  write_file_atomic(run_manifest_path(cfg), m.dump(2) + "\n");
}

}  // namespace ntks::pipeline
