#include "ntks/select/select_stage.h"

#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "ntks/config/enums.h"
#include "ntks/data/record.h"
#include "ntks/select/metadata.h"
#include "ntks/select/mixture.h"
#include "ntks/select/outputs.h"
#include "ntks/select/preselected.h"
#include "ntks/select/run_files.h"
#include "ntks/select/scores.h"
#include "ntks/select/topk.h"
#include "ntks/store/array_file.h"
#include "ntks/store/feature_file.h"
#include "ntks/util/error.h"

namespace ntks::select {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr std::size_t kSummaryIds = 5;

json parse_object(const std::string& path, const std::string& text) {
  try {
    json j = json::parse(text);
    if (j.is_object()) return j;
  } catch (const json::exception&) {
  }
  throw InputError(fmt::format("{}: its metadata is not a JSON object: not written by ntk-select", path));
}

ScoreStats stats(const std::vector<double>& scores, const std::vector<std::size_t>& which) {
  ScoreStats s;
  if (which.empty()) return s;
  s.min = s.max = scores[which.front()];
  double sum = 0;
  for (std::size_t i : which) {
    s.min = std::min(s.min, scores[i]);
    s.max = std::max(s.max, scores[i]);
    sum += scores[i];
  }
  s.mean = sum / static_cast<double>(which.size());
  return s;
}

json to_json(const ScoreStats& s) { return {{"min", s.min}, {"max", s.max}, {"mean", s.mean}}; }

// A file's size and XXH3-64 of its bytes, read in blocks.
json fingerprint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot be read", path));
  XXH3_state_t* st = XXH3_createState();
  XXH3_64bits_reset(st);
  std::vector<char> buf(1 << 20);
  std::uint64_t bytes = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    XXH3_64bits_update(st, buf.data(), static_cast<std::size_t>(in.gcount()));
    bytes += static_cast<std::uint64_t>(in.gcount());
  }
  const std::uint64_t h = XXH3_64bits_digest(st);
  XXH3_freeState(st);
  return {{"path", fs::absolute(path).string()}, {"bytes", bytes}, {"xxh3", fmt::format("{:016x}", h)}};
}

// Corpus files can be large: their size and modification time (the corpus
// index checks their content when lines are read).
json corpus_fingerprint(const std::vector<std::string>& files) {
  json out = json::array();
  for (const std::string& f : files) {
    std::error_code ec;
    const auto mtime = fs::last_write_time(f, ec).time_since_epoch();
    out.push_back({{"path", fs::absolute(f).string()},
                   {"bytes", fs::file_size(f, ec)},
                   {"mtime_ns", std::chrono::duration_cast<std::chrono::nanoseconds>(mtime).count()}});
  }
  return out;
}

// The lines of `records`, checking that each still has the id the gradients were computed for.
std::vector<std::string> read_lines(const data::CorpusIndex& index, const std::vector<std::int64_t>& records,
                                    const std::vector<std::string>& ids, const std::string& source) {
  std::vector<std::string> lines;
  lines.reserve(records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    const std::int64_t r = records[i];
    if (r < 0 || r >= index.size())
      throw InputError(fmt::format("{}: record {} (id '{}') is not in the corpus, which has {} records: the corpus "
                                   "changed since; rerun the stages",
                                   source, r, ids[i], index.size()));
    if (index.id(r) != ids[i])
      throw InputError(fmt::format("{}: record {} was '{}' but {} now holds '{}': the corpus changed since; rerun "
                                   "the stages",
                                   source, r, ids[i], index.where(r), index.id(r)));
    lines.push_back(index.read(r));
  }
  return lines;
}

// The kNN columns of every scored candidate from the pre-selection, which must
// be exactly the scored set.
void knn_columns(const RunFiles& f, const ScoreTable& t, std::vector<std::int64_t>& counts,
                 std::vector<double>& distances) {
  const Preselected p = read_preselected(f.preselected());
  std::unordered_map<std::int64_t, std::size_t> at;
  for (std::size_t i = 0; i < p.records.size(); ++i) at.emplace(p.records[i], i);
  std::size_t missing = 0;
  std::string example;
  for (std::size_t i = 0; i < t.records.size(); ++i) {
    const auto it = at.find(t.records[i]);
    if (it == at.end()) {
      if (missing++ == 0) example = t.ids[i];
      continue;
    }
    counts[i] = p.counts.at(it->second);
    distances[i] = p.mean_distance.at(it->second);
  }
  if (missing > 0 || p.records.size() != t.records.size())
    throw InputError(fmt::format("{} scores {} candidates, {} of them not pre-selected{}, but {} pre-selects {}: "
                                 "rerun `ntk-select grads --which candidates` and `ntk-select score` after "
                                 "`ntk-select preselect`",
                                 f.scores(), t.records.size(), missing,
                                 missing ? fmt::format(" (e.g. '{}')", example) : "", f.preselected(),
                                 p.records.size()));
}

void write_selection_table(const std::string& path, const ScoreTable& t, const std::vector<std::size_t>& order,
                           const std::vector<std::int64_t>& counts, const std::vector<double>& distances,
                           const std::string& metadata) {
  const auto n = static_cast<std::int64_t>(t.records.size());
  std::vector<std::int64_t> rank(t.records.size(), 0);
  for (std::size_t k = 0; k < order.size(); ++k) rank[order[k]] = static_cast<std::int64_t>(k + 1);
  store::ArrayFileWriter w(path);
  w.add("records", {n}, t.records.data());
  w.add_strings("ids", t.ids);
  w.add("scores", {n}, t.scores.data());
  w.add("rank", {n}, rank.data());
  w.add("knn_count", {n}, counts.data());
  w.add("mean_distance", {n}, distances.data());
  w.set_attribute("format", "ntks-selection");
  w.set_attribute("format_version", std::int64_t{1});
  w.set_attribute("metadata", metadata);
  w.finalize();
}

/// The domain lines the method used and, for the report, the file they were
/// taken from: the rows of the features it computed (grads for ntk, embed for
/// knn and tsds; from the same run as the scores), or every line that parses
/// (random and dsir, which compute no features of them).
std::vector<std::string> domain_lines(const SelectOptions& o, const RunFiles& f, const json& score_meta,
                                      std::string& source) {
  const data::CorpusIndex index = data::CorpusIndex::open(o.domain_files, o.index);
  if (o.method == config::SelectMethod::random || o.method == config::SelectMethod::dsir) {
    std::vector<std::string> lines;
    source = "";
    index.for_each({0, index.size()}, [&](int64_t r, std::string_view line) {
      try {
        data::parse_record(line, o.data);
        lines.emplace_back(line);
      } catch (const data::RecordError& e) {
        if (o.data.on_error == config::OnError::fail)
          throw InputError(fmt::format("{}: {} (data.on_error: skip leaves such lines out)", index.where(r), e.what()));
      }
    });
    return lines;
  }
  const bool ntk = o.method == config::SelectMethod::ntk || o.method == config::SelectMethod::less;  // gradients
  source = ntk ? f.grads_domain() : f.embed_domain();
  require_input(source, ntk ? "ntk-select grads --which domain" : "ntk-select embed");
  const store::FeatureReader domain(source);
  if (parse_object(source, domain.metadata_json()) != score_meta.value("domain_mean_metadata", json()))
    throw InputError(fmt::format("{} and the domain features that {} used come from different runs: rerun `{}` and "
                                 "`ntk-select score`",
                                 source, f.scores(), ntk ? "ntk-select grads --which domain" : "ntk-select embed"));
  check_corpus(source, domain.metadata_json(), o.domain_files, "data.domain");
  return read_lines(index, domain.indices(0, domain.rows()), domain.ids(0, domain.rows()), source);
}

}  // namespace

SelectSummary run_select(const SelectOptions& o) {
  const RunFiles f{o.run_dir};
  if (o.size < 1) throw ConfigError(fmt::format("select.size is {}: expected at least 1", o.size));
  require_input(f.scores(), "ntk-select score");
  const ScoreTable t = read_scores(f.scores());
  const json score_meta = parse_object(f.scores(), t.metadata_json);
  const std::string scored_by = score_meta.value("method", std::string("ntk"));
  if (scored_by != config::to_string(o.method))
    throw InputError(fmt::format("{} holds the scores of select.method {}, but select.method is {}: rerun `ntk-select "
                                 "score`",
                                 f.scores(), scored_by, config::to_string(o.method)));
  check_corpus(f.scores(), score_meta.value("candidates_metadata", json::object()).dump(), o.candidate_files,
               "data.candidates");

  SelectSummary s;
  s.dir = f.select_dir();
  s.scored = static_cast<std::int64_t>(t.records.size());
  s.selected = o.size;
  s.seed = o.seed;
  std::error_code ec;
  // The kNN columns: the pre-selection is what ntk scores (when it ran) and what knn is.
  s.preselected = o.method == config::SelectMethod::knn ||
                  (o.method == config::SelectMethod::ntk && fs::exists(f.preselected(), ec));
  std::vector<std::int64_t> counts(t.records.size(), -1);
  std::vector<double> distances(t.records.size(), std::numeric_limits<double>::quiet_NaN());
  if (s.preselected) knn_columns(f, t, counts, distances);
  const std::vector<std::size_t> order = top_m(t.scores, t.records, o.size);

  // The selected candidates' lines, best first.
  std::vector<std::int64_t> sel_records;
  std::vector<std::string> sel_ids;
  for (std::size_t k : order) {
    sel_records.push_back(t.records[k]);
    sel_ids.push_back(t.ids[k]);
  }
  const data::CorpusIndex candidates = data::CorpusIndex::open(o.candidate_files, o.index);
  const std::vector<std::string> sel_lines = read_lines(candidates, sel_records, sel_ids, f.scores());

  std::string domain_source;
  const std::vector<std::string> dom_lines = domain_lines(o, f, score_meta, domain_source);
  s.domain_lines = static_cast<std::int64_t>(dom_lines.size());

  fs::create_directories(s.dir);
  const auto out = [&](const char* name) { return (fs::path(s.dir) / name).string(); };
  // report.json is written last: without it the folder is not a complete selection.
  fs::remove(out("report.json"));
  json sizes = json::object();
  {
    LineFile lines(out("selected.jsonl")), ids(out("selected_ids.txt"));
    for (std::size_t k = 0; k < sel_lines.size(); ++k) {
      lines.add(sel_lines[k]);
      ids.add(sel_ids[k]);
    }
    sizes["selected.jsonl"] = lines.commit();
    sizes["selected_ids.txt"] = ids.commit();
  }
  {
    LineFile mix(out("mixture.jsonl"));
    for (const MixtureItem& m : mixture_order(dom_lines.size(), sel_lines.size(), o.seed))
      mix.add(m.domain ? dom_lines[m.position] : sel_lines[m.position]);
    sizes["mixture.jsonl"] = mix.commit();
  }
  const json select_meta = {{"size", o.size}, {"seed", o.seed}, {"scores", fs::absolute(f.scores()).string()}};
  write_selection_table(out("scores.h5"), t, order, counts, distances, select_meta.dump());
  sizes["scores.h5"] = fs::file_size(out("scores.h5"));

  std::vector<std::size_t> all(t.records.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  s.selected_scores = stats(t.scores, order);
  s.all_scores = stats(t.scores, all);
  for (std::size_t k = 0; k < std::min(kSummaryIds, sel_ids.size()); ++k) s.first_ids.push_back(sel_ids[k]);

  const json cand_meta = score_meta.value("candidates_metadata", json::object());
  json inputs = {{"scores", fingerprint(f.scores())},
                 {"candidates_corpus", corpus_fingerprint(o.candidate_files)},
                 {"domain_corpus", corpus_fingerprint(o.domain_files)}};
  if (!domain_source.empty())
    inputs[domain_source == f.grads_domain() ? "grads_domain" : "embed_domain"] = fingerprint(domain_source);
  if (s.preselected) inputs["preselected"] = fingerprint(f.preselected());
  const json report = {
      {"format", "ntks-select-report"},
      {"version", 1},
      {"method", std::string(config::to_string(o.method))},
      {"counts",
       {{"selected", s.selected},
        {"scored", s.scored},
        {"preselected", s.preselected},
        {"domain_lines", s.domain_lines},
        {"mixture_lines", s.domain_lines + s.selected}}},
      {"seed", o.seed},
      {"scores", {{"selected", to_json(s.selected_scores)}, {"all", to_json(s.all_scores)}}},
      {"first_ids", s.first_ids},
      {"output_bytes", sizes},
      // What finetune checks before it trains on the mixture: these bytes still.
      {"mixture", fingerprint(out("mixture.jsonl"))},
      {"inputs", inputs},
      {"model",
       {{"model", cand_meta.value("model", "")},
        {"adapter", cand_meta.value("adapter", "")},
        {"grads", cand_meta.value("stage", json::object())}}}};
  LineFile report_file(out("report.json"));
  report_file.add(report.dump(2));
  report_file.commit();
  return s;
}

std::string summary_text(const SelectSummary& s) {
  std::string ids;
  for (const std::string& id : s.first_ids) ids += (ids.empty() ? "" : ", ") + id;
  if (s.selected > static_cast<std::int64_t>(s.first_ids.size())) ids += ", ...";
  const auto file = [&](const char* name) { return (fs::path(s.dir) / name).string(); };
  return fmt::format(
      "selected {} of {} {}candidates; scores of the selected {:.6g} .. {:.6g} (mean {:.6g}), of all {:.6g} .. "
      "{:.6g} (mean {:.6g})\n"
      "  best first: {}\n"
      "  {}  the selected lines, best first\n"
      "  {}  their ids\n"
      "  {}  {} domain + {} selected lines, shuffled with seed {}\n"
      "  {}  every scored candidate: score, rank (0 = not selected){}\n"
      "  {}  counts, score statistics, input fingerprints\n",
      s.selected, s.scored, s.preselected ? "pre-selected " : "", s.selected_scores.min, s.selected_scores.max,
      s.selected_scores.mean, s.all_scores.min, s.all_scores.max, s.all_scores.mean, ids, file("selected.jsonl"),
      file("selected_ids.txt"), file("mixture.jsonl"), s.domain_lines, s.selected, s.seed, file("scores.h5"),
      s.preselected ? ", kNN count, mean distance" : "", file("report.json"));
}

}  // namespace ntks::select
