// The distribution of scores and of the pre-selection's kNN votes, selected
// against not selected.

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "ntks/util/svg_plot.h"
#include "sections.h"

namespace ntks::report {
namespace {

constexpr const char* kSelectedColor = "#d62728";
constexpr const char* kOtherColor = "#9aa5b1";

struct Stats {
  std::int64_t n = 0;
  double min = NAN, max = NAN, mean = NAN;
};

Stats stats(const std::vector<double>& v) {
  Stats s;
  double sum = 0;
  for (double x : v) {
    if (!std::isfinite(x)) continue;
    s.min = s.n ? std::min(s.min, x) : x;
    s.max = s.n ? std::max(s.max, x) : x;
    sum += x;
    ++s.n;
  }
  if (s.n) s.mean = sum / static_cast<double>(s.n);
  return s;
}

std::vector<std::string> stats_row(const std::string& label, const std::vector<double>& v) {
  const Stats s = stats(v);
  return {escape(label), number(static_cast<double>(s.n)), number(s.min, 6), number(s.mean, 6), number(s.max, 6)};
}

// What the scores of a method are, for the section's text.
std::string score_kind(const std::string& method, const std::string& rule) {
  if (method == "ntk")
    return rule == "lda" ? "NTK scores by score.rule lda (the domain-vs-candidates discriminant on projected gradients)"
                         : "NTK utility s(c) = &lt;&#285;(c), mean<sub>D</sub> &#285;&gt; of the projected gradients";
  if (method == "knn") return "kNN relevance scores (votes of the pre-selection, ties by mean distance)";
  if (method == "random") return "random keys (select.method random)";
  if (method == "less") return "LESS influence scores";
  if (method == "dsir") return "DSIR importance weights";
  if (method == "tsds") return "TSDS scores";
  return escape(method) + " scores";
}

}  // namespace

Section scores_section(const RunData& run) {
  Section s{"scores", "Score distribution", ""};
  if (!run.scored) {
    s.body = not_available(run.scored.why);
    return s;
  }
  const Scored& t = *run.scored;
  if (run.method != "ntk")
    s.body +=
        not_available(fmt::format("NTK scores: select.method is {}, which scores candidates its own way; shown "
                                  "below are that method's scores",
                                  run.method));
  std::vector<double> selected, other;
  for (size_t i = 0; i < t.scores.size(); ++i) (t.rank[i] > 0 ? selected : other).push_back(t.scores[i]);
  s.body += fmt::format(
      "<p>{}: {} candidates scored ({}), {} selected.</p>\n", score_kind(run.method, run.rule), t.scores.size(),
      escape(t.path),
      t.selected_known ? std::to_string(selected.size()) : std::string("none yet (no RUN/select/scores.h5)"));
  s.body += table({"", "candidates", "min", "mean", "max"},
                  {stats_row("selected", selected), stats_row("not selected", other), stats_row("all", t.scores)},
                  {1, 2, 3, 4});
  util::HistogramOptions o;
  o.plot.title = run.method == "ntk" ? "NTK scores" : run.method + " scores";
  o.plot.x_label = "score";
  o.plot.y_label = "candidates";
  o.plot.width = 760;
  o.plot.height = 380;
  o.bins = 40;
  std::vector<util::HistogramSeries> series = {{"not selected", kOtherColor, other}};
  if (t.selected_known) series.push_back({"selected", kSelectedColor, selected});
  s.body += "<div class=\"plots\">" + util::svg_histogram(series, o) + "</div>\n";
  return s;
}

Section knn_section(const RunData& run) {
  Section s{"knn", "kNN pre-selection: relevance votes", ""};
  if (!run.preselected) {
    s.body = not_available(run.preselected.why);
    return s;
  }
  const select::Preselected& p = *run.preselected;
  std::unordered_map<std::int64_t, std::int64_t> rank;  // record -> rank in the selection
  const bool known = run.scored && run.scored->selected_known;
  if (known)
    for (size_t i = 0; i < run.scored->records.size(); ++i) rank[run.scored->records[i]] = run.scored->rank[i];
  std::vector<double> selected, other;
  for (size_t i = 0; i < p.records.size(); ++i) {
    const auto it = rank.find(p.records[i]);
    (it != rank.end() && it->second > 0 ? selected : other).push_back(static_cast<double>(p.counts[i]));
  }
  std::int64_t embedded = -1, k = -1;
  if (const auto e = run.stage_manifests.find("embed"); e != run.stage_manifests.end())
    embedded = e->second.value(json::json_pointer("/counts/candidates"), std::int64_t{-1});
  if (const auto m = run.stage_manifests.find("preselect"); m != run.stage_manifests.end()) {
    const json& cfg = m->second.value(json::json_pointer("/identity/config"), json::object());
    if (cfg.contains("preselect.k") && cfg["preselect.k"].is_string()) try {
        k = std::stoll(cfg["preselect.k"].get<std::string>());
      } catch (const std::exception&) {
      }
  }
  const std::int64_t lowest = p.counts.empty() ? 0 : *std::min_element(p.counts.begin(), p.counts.end());
  s.body += fmt::format(
      "<p>{} candidates pre-selected{}{}: a candidate's votes are the domain points whose {} nearest candidates "
      "(L2 on the embeddings) hold it. The lowest kept count is {}; the {} candidates not pre-selected had at most "
      "that many votes (the stage keeps only the pre-selected ones' counts).</p>\n",
      p.records.size(), embedded >= 0 ? fmt::format(" of {} embedded", embedded) : "",
      known ? fmt::format(", {} of them selected", selected.size()) : "", k > 0 ? std::to_string(k) : "k", lowest,
      embedded >= 0 ? std::to_string(embedded - static_cast<std::int64_t>(p.records.size())) : "other");
  std::vector<double> all(p.counts.begin(), p.counts.end());
  s.body += table({"", "candidates", "min votes", "mean votes", "max votes"},
                  known ? std::vector<std::vector<std::string>>{stats_row("selected", selected),
                                                                stats_row("pre-selected, not selected", other),
                                                                stats_row("all pre-selected", all)}
                        : std::vector<std::vector<std::string>>{stats_row("all pre-selected", all)},
                  {1, 2, 3, 4});
  util::HistogramOptions o;
  o.plot.title = "kNN votes of the pre-selected candidates";
  o.plot.x_label = "votes (domain points holding the candidate among their k nearest)";
  o.plot.y_label = "candidates";
  o.plot.width = 760;
  o.plot.height = 380;
  o.bins = 40;
  o.integer_bins = true;
  std::vector<util::HistogramSeries> series;
  if (known) {
    series = {{"not selected", kOtherColor, other}, {"selected", kSelectedColor, selected}};
  } else {
    series = {{"pre-selected", "#4c78a8", all}};
    s.body += not_available("selected vs not: " + run.selection_missing());
  }
  s.body += "<div class=\"plots\">" + util::svg_histogram(series, o) + "</div>\n";
  return s;
}

}  // namespace ntks::report
