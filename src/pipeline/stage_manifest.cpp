// Stage manifests: the identity a stage has now (config keys, options, input
// fingerprints, upstream digests), the comparison with the manifest of its
// last complete run, and run_stage(), which writes the manifest last.

#include <xxhash.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <nlohmann/json.hpp>

#include "ntks/build_config.h"
#include "ntks/dist/communicator.h"
#include "ntks/features/feature_set.h"
#include "ntks/log/log.h"
#include "ntks/model/torch_info.h"
#include "ntks/pipeline/fingerprint.h"
#include "ntks/pipeline/stage.h"
#include "ntks/select/scores.h"
#include "ntks/store/feature_file.h"
#include "ntks/util/error.h"
#include "ntks/util/files.h"
#include "versions.h"
#include "stage_spec.h"

namespace ntks::pipeline {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using detail::StageSpec;

constexpr int kFormat = 1;

std::string hex(uint64_t v) { return fmt::format("{:016x}", v); }
std::string xxh3_hex(const std::string& s) { return hex(XXH3_64bits(s.data(), s.size())); }

std::string absolute(const std::string& p) {
  std::error_code ec;
  const fs::path a = fs::absolute(p, ec);
  return ec ? p : a.lexically_normal().string();
}

json to_json(const FileFingerprint& f) {
  return {{"path", f.path}, {"exists", f.exists}, {"bytes", f.size},
          {"mtime_ns", f.mtime_ns}, {"hash", f.hash}, {"whole", f.whole}};
}

FileFingerprint from_json(const json& j) {
  FileFingerprint f;
  f.path = j.value("path", "");
  f.exists = j.value("exists", false);
  f.size = j.value("bytes", uint64_t{0});
  f.mtime_ns = j.value("mtime_ns", int64_t{0});
  f.hash = j.value("hash", "");
  f.whole = j.value("whole", false);
  return f;
}

std::optional<json> read_json(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  try {
    return json::parse(read_file(path));
  } catch (const std::exception&) {
    return json();  // present but unreadable: null
  }
}

// The digest that says whether two stages saw the same model, wherever it lies.
json model_lineage(const config::Config& cfg) {
  return {{"path", absolute(cfg.model.path)}, {"digest", model_digest(cfg.model.path)}};
}

json adapter_lineage(const std::string& folder) {
  if (folder.empty()) return {{"path", "none"}, {"digest", "none"}};
  const FileFingerprint fp = fingerprint_file((fs::path(folder) / "adapter_model.safetensors").string());
  return {{"path", absolute(folder)}, {"digest", fp.exists ? fp.hash : "missing"}};
}

/// Where a stage's adapter comes from: RUN/warmup (""), none, or a folder.
std::string adapter_option(const StageOptions& options) {
  const auto it = options.find("adapter");
  return it == options.end() ? "" : it->second;
}

/// Everything the stage depends on now, plus the upstream stages it reads
/// and the files it needs from them.
struct Current {
  json identity;
  std::vector<std::string> upstream;                            // stage names
  std::vector<std::pair<std::string, std::string>> reads;       // (absolute file, stage that makes it)
};

// The stage whose folder holds `path`, or "" when it is outside RUN/<stage>/.
std::string stage_of(const config::Config& cfg, const std::string& path) {
  const fs::path p = fs::path(absolute(path));
  for (const std::string& s : stage_names()) {
    const fs::path dir = fs::path(absolute(stage_dir(cfg, s)));
    const auto rel = p.lexically_relative(dir);
    if (!rel.empty() && *rel.begin() != "..") return s;
  }
  return "";
}

void add_upstream(Current& c, const std::string& stage) {
  if (std::find(c.upstream.begin(), c.upstream.end(), stage) == c.upstream.end()) c.upstream.push_back(stage);
}

Current current(const config::Config& cfg, const StageSpec& spec, const StageOptions& options) {
  Current c;
  const auto keys = detail::stage_config(cfg, spec);
  std::string key_text;
  for (const auto& [k, v] : keys) key_text += k + "=" + v + "\n";
  json inputs = json::array();
  const auto input = [&](const std::string& path) { inputs.push_back(to_json(fingerprint_file(path))); };
  if (spec.uses_model) {
    std::vector<std::string> files;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(cfg.model.path, ec)) {
      const auto ext = e.path().extension();
      if (e.is_regular_file() && (ext == ".json" || ext == ".safetensors")) files.push_back(e.path().string());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) input(f);
    if (!cfg.model.tokenizer.empty()) input(cfg.model.tokenizer);
  }
  if (spec.domain) input(cfg.data.domain);
  if (spec.candidates)
    for (const auto& f : cfg.data.candidates) input(f);
  const auto read = [&](const std::string& stage, const std::string& file) {
    add_upstream(c, stage);
    c.reads.emplace_back(absolute((fs::path(stage_dir(cfg, stage)) / file).string()), stage);
  };
  for (const std::string& r : spec.reads) {
    const auto slash = r.find('/');
    read(r.substr(0, slash), r.substr(slash + 1));
  }
  for (const std::string& r : spec.optional_reads) {
    const auto slash = r.find('/');
    std::error_code ec;
    if (fs::exists(fs::path(cfg.run.dir) / r, ec)) read(r.substr(0, slash), r.substr(slash + 1));
  }
  if (spec.uses_adapter) {
    const std::string a = adapter_option(options);
    if (a.empty()) {
      read("warmup", "adapter_config.json");
      read("warmup", "adapter_model.safetensors");
    } else if (a != "none") {
      input((fs::path(a) / "adapter_config.json").string());
      input((fs::path(a) / "adapter_model.safetensors").string());
    }
  }
  // An option naming a file: an upstream output, or an input of its own.
  for (const auto& [name, value] : options) {
    const bool ignored =
        std::find(spec.ignored_options.begin(), spec.ignored_options.end(), name) != spec.ignored_options.end();
    if (name == "adapter" || ignored || value.empty() || value.front() != '/') continue;
    const std::string s = stage_of(cfg, value);
    if (!s.empty() && s != spec.name) {
      add_upstream(c, s);
      c.reads.emplace_back(value, s);
    } else if (fs::is_regular_file(value)) {
      input(value);
    }
  }
  json upstream = json::object();
  for (const std::string& s : c.upstream) {
    const auto m = read_json(manifest_path(cfg, s));
    upstream[s] = (m && m->is_object()) ? m->value("digest", "none") : "none";
  }
  StageOptions identity_options = options;
  for (const std::string& o : spec.ignored_options) identity_options.erase(o);
  c.identity = {{"config", keys},  {"config_hash", xxh3_hex(key_text)}, {"options", identity_options},
                {"inputs", inputs}, {"upstream", upstream}};
  return c;
}

json output_list(const std::string& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (!e.is_regular_file() || name == "manifest.json" || name.find(".partial") != std::string::npos ||
        name.find(".tmp-") != std::string::npos)
      continue;
    files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  json out = json::array();
  for (const fs::path& f : files) {
    const FileFingerprint fp = fingerprint_file(f.string());
    // Small files by content; big ones (feature shards) by size and mtime
    // only, since rehashing them on every check would cost about as much as
    // the stages that read them.
    json o = {{"file", f.filename().string()}, {"bytes", fp.size}, {"mtime_ns", fp.mtime_ns}};
    if (fp.whole) o["hash"] = fp.hash;
    out.push_back(o);
  }
  return out;
}

// Rows in an output: lines of text files, rows of feature files and sets;
// nullopt for anything else.
std::optional<int64_t> rows_of(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  const std::string ext = fs::path(path).extension().string();
  try {
    if (ext == ".txt" || ext == ".jsonl") {
      std::ifstream in(path, std::ios::binary);
      int64_t n = 0;
      for (std::string line; std::getline(in, line);)
        if (line.find_first_not_of(" \t\r") != std::string::npos) ++n;
      return n;
    }
    if (ext == ".h5") {
      try {
        return store::FeatureReader(path).rows();
      } catch (const InputError&) {
        return static_cast<int64_t>(select::read_scores(path).records.size());  // RUN/score/scores.h5
      }
    }
    if (ext == ".json") return features::FeatureSet(path).rows();
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

// Rows of a feature file or set copied from an earlier run; nullopt when
// it cannot be read.
std::optional<std::pair<int64_t, int64_t>> rows_and_reused(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  try {
    if (fs::path(path).extension() == ".json") {
      const features::FeatureSet set(path);
      return std::make_pair(set.rows(), set.reused_rows());
    }
    const store::FeatureReader r(path);
    return std::make_pair(r.rows(), r.reused_rows());
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string short_value(const json& j) {
  std::string s = j.is_string() ? j.get<std::string>() : j.dump();
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

// The first difference between two key -> value objects, as "config k: a -> b".
std::string first_difference(const std::string& what, const json& was, const json& now) {
  for (const auto& [k, v] : now.items()) {
    if (!was.contains(k)) return fmt::format("{} {}: new ({})", what, k, short_value(v));
    if (was[k] != v) return fmt::format("{} {}: {} -> {}", what, k, short_value(was[k]), short_value(v));
  }
  for (const auto& [k, v] : was.items())
    if (!now.contains(k)) return fmt::format("{} {}: no longer given (was {})", what, k, short_value(v));
  return "";
}

std::string input_difference(const json& was, const json& now) {
  std::map<std::string, FileFingerprint> old;
  for (const auto& j : was) old[j.value("path", "")] = from_json(j);
  std::set<std::string> seen;
  for (const auto& j : now) {
    const FileFingerprint f = from_json(j);
    seen.insert(f.path);
    const auto it = old.find(f.path);
    if (it == old.end()) return fmt::format("input {}: new", f.path);
    if (!it->second.unchanged(f)) return fmt::format("input {}: {}", f.path, f.exists ? "changed" : "missing");
  }
  for (const auto& [path, f] : old)
    if (!seen.count(path)) return fmt::format("input {}: no longer read", path);
  return "";
}

std::string output_difference(const std::string& dir, const json& outputs) {
  for (const auto& o : outputs) {
    const std::string name = o.value("file", "");
    const FileFingerprint now = fingerprint_file((fs::path(dir) / name).string());
    if (!now.exists) return fmt::format("output {}: missing", name);
    const bool same = now.size == o.value("bytes", uint64_t{0}) &&
                      (o.contains("hash") ? now.whole && now.hash == o["hash"]
                                          : now.mtime_ns == o.value("mtime_ns", int64_t{0}));
    if (!same) return fmt::format("output {}: changed since the stage wrote it", name);
  }
  return "";
}

// What downstream manifests record of this one: its identity and its
// outputs by content (small files) or by size and mtime (big ones), so a
// stage rerun that rewrites the same bytes leaves the later stages valid.
std::string manifest_digest(const json& identity, const json& outputs) {
  json id = identity;
  for (auto& f : id["inputs"])
    if (f.value("whole", false)) f.erase("mtime_ns");
  json o = json::array();
  for (const auto& f : outputs) {
    json k = f;
    if (k.contains("hash")) k.erase("mtime_ns");
    o.push_back(k);
  }
  return xxh3_hex(id.dump() + o.dump());
}

// Refuses upstream outputs that are missing, or that descend from another
// model or adapter than this stage uses (or than each other). Returns the
// lineage the stage's manifest records.
json check_upstream(const config::Config& cfg, const StageSpec& spec, const StageOptions& options,
                    const Current& c) {
  for (const auto& [file, stage] : c.reads) {
    std::error_code ec;
    if (!fs::exists(file, ec))
      throw InputError(fmt::format("{}: missing; it is made by the {} stage (run `ntk-select {}` first, or "
                                   "`ntk-select run`, which runs every stage that is not up to date)",
                                   file, stage, stage));
  }
  json lineage = json::object();
  if (spec.uses_model) lineage["model"] = model_lineage(cfg);
  if (spec.uses_adapter) {
    const std::string a = adapter_option(options);
    lineage["adapter"] = adapter_lineage(a.empty() ? stage_dir(cfg, "warmup") : a == "none" ? "" : a);
  }
  std::map<std::string, std::string> origin;  // "model"/"adapter" -> where the lineage came from
  for (const auto& k : {"model", "adapter"})
    if (lineage.contains(k)) origin[k] = fmt::format("this {} run", spec.name);
  for (const std::string& s : c.upstream) {
    const auto m = read_json(manifest_path(cfg, s));
    if (!m || !m->is_object() || !m->contains("lineage")) continue;  // no manifest: nothing to compare
    for (const auto& k : {"model", "adapter"}) {
      if (!(*m)["lineage"].contains(k)) continue;
      const json& theirs = (*m)["lineage"][k];
      // warmup's adapter is the one it made: the adapter a stage loads from
      // RUN/warmup is checked against the file itself, above.
      if (std::string(k) == "adapter" && s == "warmup") continue;
      if (!lineage.contains(k)) {
        lineage[k] = theirs;
        origin[k] = fmt::format("{} ({})", stage_dir(cfg, s), manifest_path(cfg, s));
        continue;
      }
      if (lineage[k].value("digest", "") == theirs.value("digest", "")) continue;
      throw InputError(fmt::format(
          "{}: the {} outputs were made with {} {} (digest {}), but {} uses {} {} (digest {}); rerun `ntk-select {}` "
          "and the stages after it (`ntk-select run` does), or use the {} they were made with",
          manifest_path(cfg, s), s, k, theirs.value("path", "?"), theirs.value("digest", "?"), origin[k], k,
          lineage[k].value("path", "?"), lineage[k].value("digest", "?"), s, k));
    }
  }
  return lineage;
}

}  // namespace

std::string stage_dir(const config::Config& cfg, const std::string& stage) {
  return (fs::path(cfg.run.dir) / stage).string();
}

std::string manifest_path(const config::Config& cfg, const std::string& stage) {
  return (fs::path(cfg.run.dir) / stage / "manifest.json").string();
}

std::string stale_reason(const config::Config& cfg, const std::string& stage, const StageOptions& options) {
  const auto m = read_json(manifest_path(cfg, stage));
  if (!m) return "no manifest (never completed, or interrupted)";
  if (!m->is_object() || m->value("format", 0) != kFormat || !m->contains("identity"))
    return "manifest unreadable or from another version";
  const json& was = (*m)["identity"];
  const Current c = current(cfg, detail::stage_spec(cfg, stage), options);
  const json& now = c.identity;
  std::string why = first_difference("config", was.value("config", json::object()), now["config"]);
  if (why.empty()) why = first_difference("option", was.value("options", json::object()), now["options"]);
  if (why.empty()) why = input_difference(was.value("inputs", json::array()), now["inputs"]);
  if (why.empty()) {
    const json wu = was.value("upstream", json::object());
    for (const auto& [s, d] : now["upstream"].items())
      if (!wu.contains(s) || wu[s] != d) {
        why = fmt::format("upstream {} changed", s);
        break;
      }
    if (why.empty() && wu.size() != now["upstream"].size()) why = "upstream stages changed";
  }
  if (why.empty()) why = output_difference(stage_dir(cfg, stage), m->value("outputs", json::array()));
  return why;
}

std::vector<std::string> plan_run(const config::Config& cfg, const std::vector<StageOptions>& options,
                                  size_t forced_from, const std::string& forced_why) {
  std::vector<std::string> why;
  bool redo = false;
  for (size_t i = 0; i < options.size(); ++i) {
    if (!detail::stage_spec(cfg, stage_names().at(i)).used) {
      why.push_back(kNotNeeded);
      continue;
    }
    why.push_back(i >= forced_from ? forced_why
                  : redo           ? "an earlier stage ran"
                                   : stale_reason(cfg, stage_names().at(i), options[i]));
    redo = redo || !why.back().empty();
  }
  return why;
}

int run_stage(const config::Config& cfg, dist::Communicator& comm, const std::string& stage,
              const StageOptions& options, const std::function<int()>& body) {
  const StageSpec& spec = detail::stage_spec(cfg, stage);
  const std::string manifest = manifest_path(cfg, stage);
  Current c;
  json lineage;
  if (comm.is_root()) {
    c = current(cfg, spec, options);
    lineage = check_upstream(cfg, spec, options, c);
    std::error_code ec;
    fs::remove(manifest, ec);  // from here until the end the stage is incomplete
  }
  comm.barrier();
  const std::string started = utc_now();
  const auto t0 = std::chrono::steady_clock::now();
  const int code = body();
  comm.barrier();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (comm.is_root() && code == 0) {
    if (!whole_stage(options)) {
      log::info("part of the stage only (--which/--shard): no manifest; `ntk-select run` checks the whole stage");
    } else {
      const std::string dir = stage_dir(cfg, stage);
      if (stage == "warmup") lineage["adapter"] = adapter_lineage(dir);
      const json outputs = output_list(dir);
      json counts = json::object();
      for (const auto& [label, file] : spec.counts)
        if (const auto n = rows_of((fs::path(dir) / file).string())) counts[label] = *n;
      if (!spec.feature_outputs.empty()) {
        int64_t rows = 0, reused = 0;
        for (const std::string& file : spec.feature_outputs)
          if (const auto n = rows_and_reused((fs::path(dir) / file).string())) rows += n->first, reused += n->second;
        counts["computed"] = rows - reused;
        counts["reused"] = reused;
      }
      const json m = {{"format", kFormat},
                      {"stage", stage},
                      {"complete", true},
                      {"digest", manifest_digest(c.identity, outputs)},
                      {"identity", c.identity},
                      {"lineage", lineage},
                      {"outputs", outputs},
                      {"counts", counts},
                      {"versions", detail::software_versions()},
                      {"ranks", comm.size()},
                      {"started_utc", started},
                      {"seconds", seconds}};
      fs::create_directories(dir);
      write_file_atomic(manifest, m.dump(2) + "\n");
      log::debug("{}: written", manifest);
    }
  }
  comm.barrier();
  return code;
}

StageSummary read_summary(const config::Config& cfg, const std::string& stage) {
  StageSummary s;
  const auto m = read_json(manifest_path(cfg, stage));
  if (!m || !m->is_object()) return s;
  s.present = true;
  s.seconds = m->value("seconds", 0.0);
  s.digest = m->value("digest", "");
  const json counts = m->value("counts", json::object());
  for (const auto& [label, file] : detail::stage_spec(cfg, stage).counts)
    if (counts.contains(label)) s.counts.emplace_back(label, counts[label].get<int64_t>());
  if (counts.value("reused", int64_t{0}) > 0)  // summaries mention copies only when there were some
    for (const char* label : {"computed", "reused"}) s.counts.emplace_back(label, counts[label].get<int64_t>());
  for (const auto& o : m->value("outputs", json::array())) s.outputs.push_back(o.value("file", ""));
  return s;
}

}  // namespace ntks::pipeline
