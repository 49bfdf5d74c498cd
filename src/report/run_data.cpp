#include "run_data.h"

#include <filesystem>

#include "ntks/features/feature_set.h"
#include "ntks/pipeline/stage.h"
#include "ntks/select/scores.h"
#include "ntks/store/array_file.h"
#include "ntks/util/error.h"
#include "ntks/util/files.h"

namespace ntks::report {

namespace fs = std::filesystem;

std::int64_t Scored::selected() const {
  std::int64_t n = 0;
  for (std::int64_t r : rank) n += r > 0 ? 1 : 0;
  return n;
}

std::string RunData::path(const std::string& relative) const { return (fs::path(dir) / relative).string(); }

std::string RunData::selection_missing() const {
  if (!scored) return scored.why;
  return scored->selected_known ? "" : "RUN/select/scores.h5 is missing (the select stage has not run)";
}

std::optional<json> read_json_file(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  try {
    return json::parse(read_file(path));
  } catch (const json::exception& e) {
    throw InputError(fmt::format("{}: not JSON ({})", path, e.what()));
  }
}

namespace {

json parse_or_empty(const std::string& text) {
  try {
    const json j = json::parse(text);
    return j.is_object() ? j : json::object();
  } catch (const json::exception&) {
    return json::object();
  }
}

Scored read_selection(const std::string& path) {
  const store::ArrayFileReader r(path);
  if (r.string_attribute("format").value_or("") != "ntks-selection")
    throw InputError(fmt::format("{}: not a selection file (format attribute is not ntks-selection)", path));
  Scored s;
  s.path = path;
  s.records = r.read_int64("records");
  s.ids = r.read_strings("ids");
  s.scores = r.read_double("scores");
  s.rank = r.read_int64("rank");
  s.knn_count = r.has("knn_count") ? r.read_int64("knn_count") : std::vector<std::int64_t>(s.records.size(), -1);
  const size_t n = s.records.size();
  if (s.ids.size() != n || s.scores.size() != n || s.rank.size() != n || s.knn_count.size() != n)
    throw InputError(fmt::format("{}: columns of different lengths", path));
  s.selected_known = true;
  return s;
}

Scored from_scores(const std::string& path, const select::ScoreTable& t) {
  Scored s;
  s.path = path;
  s.records = t.records;
  s.ids = t.ids;
  s.scores = t.scores;
  s.rank.assign(t.records.size(), 0);
  s.knn_count.assign(t.records.size(), -1);
  return s;
}

// The corpus from the metadata the feature stages recorded.
std::optional<CorpusInfo> corpus_from(const json& meta) {
  if (!meta.is_object() || !meta.contains("corpus") || !meta["corpus"].is_array()) return std::nullopt;
  CorpusInfo c;
  for (const auto& f : meta["corpus"])
    if (f.is_string()) c.files.push_back(f.get<std::string>());
  if (c.files.empty()) return std::nullopt;
  if (meta.contains("fields") && meta["fields"].is_object()) {
    c.fields = meta["fields"];
    if (c.fields.contains("id") && c.fields["id"].is_string()) c.id_field = c.fields["id"].get<std::string>();
  }
  return c;
}

}  // namespace

RunData load_run(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw InputError(fmt::format("{}: no such run folder (name the run.dir of a run: `ntk-select report RUN`)", dir));
  RunData d;
  d.dir = dir;
  d.run_manifest = read_json_file(d.path("manifest.json"));
  for (const std::string& stage : pipeline::stage_names())
    if (auto m = read_json_file(d.path(stage + "/manifest.json")); m && m->is_object()) d.stage_manifests[stage] = *m;
  if (!d.run_manifest && d.stage_manifests.empty())
    throw InputError(
        fmt::format("{}: no manifest.json here nor in any stage folder ({}/<stage>/manifest.json): not a "
                    "run folder, or no stage has completed yet",
                    dir, dir));

  // The scores' metadata names the method, the rule and the candidate corpus.
  json score_meta = json::object();
  const std::string score_path = d.path("score/scores.h5"), select_path = d.path("select/scores.h5");
  std::optional<select::ScoreTable> scores;
  if (fs::exists(score_path, ec)) {
    try {
      scores = select::read_scores(score_path);
      score_meta = parse_or_empty(scores->metadata_json);
    } catch (const Error& e) {
      d.scored.why = e.what();
    }
  }
  d.method = score_meta.value("method", std::string("ntk"));
  if (score_meta.contains("rule") && score_meta["rule"].is_string()) d.rule = score_meta["rule"].get<std::string>();
  if (!scores && d.stage_manifests.count("select")) {
    const json& cfg = d.stage_manifests["select"]["identity"]["config"];
    if (cfg.contains("select.method") && cfg["select.method"].is_string()) d.method = cfg["select.method"];
  }

  if (fs::exists(select_path, ec)) {
    try {
      d.scored.value = read_selection(select_path);
    } catch (const Error& e) {
      d.scored.why = e.what();
    }
  } else if (scores) {
    d.scored.value = from_scores(score_path, *scores);
  } else if (d.scored.why.empty()) {
    d.scored.why = fmt::format("no scores: {} and {} are missing (the score and select stages have not run)",
                               score_path, select_path);
  }

  const std::string pre_path = d.path("preselect/preselected.h5");
  if (fs::exists(pre_path, ec)) {
    try {
      d.preselected.value = select::read_preselected(pre_path);
    } catch (const Error& e) {
      d.preselected.why = e.what();
    }
  } else {
    d.preselected.why = fmt::format(
        "{} is missing: the preselect stage has not run{}", pre_path,
        d.method == "random" || d.method == "dsir" ? fmt::format(" (select.method {} does not use it)", d.method) : "");
  }

  if (auto c = corpus_from(score_meta.value("candidates_metadata", json::object()))) {
    d.corpus.value = *c;
  } else {
    const std::string set = d.path("embed/candidates.json");
    try {
      if (fs::exists(set, ec))
        if (auto e = corpus_from(parse_or_empty(features::FeatureSet(set).metadata_json()))) d.corpus.value = *e;
    } catch (const Error& e) {
      d.corpus.why = e.what();
    }
    if (!d.corpus && d.corpus.why.empty())
      d.corpus.why = "neither RUN/score/scores.h5 nor RUN/embed/candidates.json names the candidate corpus";
  }
  return d;
}

}  // namespace ntks::report
