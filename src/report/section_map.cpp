// A 2-D map of the embeddings: domain, candidates, pre-selected and selected
// points on the first two principal components of their union. Each group is
// capped at Limits::map_points rows, spread evenly over it (deterministic), so
// the page stays small whatever the corpus.

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <unordered_map>

#include "ntks/features/feature_set.h"
#include "ntks/report/pca.h"
#include "ntks/store/feature_file.h"
#include "ntks/util/svg_plot.h"
#include "sections.h"

namespace ntks::report {

std::vector<std::int64_t> spread(std::int64_t n, std::int64_t count) {
  std::vector<std::int64_t> out;
  if (n <= 0 || count <= 0) return out;
  if (n <= count) {
    for (std::int64_t i = 0; i < n; ++i) out.push_back(i);
    return out;
  }
  for (std::int64_t k = 0; k < count; ++k)
    out.push_back(static_cast<std::int64_t>((static_cast<double>(k) + 0.5) * n / count));
  return out;
}

namespace {

namespace fs = std::filesystem;

struct Group {
  std::string label, color;
  double radius = 2.5, opacity = 0.6;
  std::vector<std::int64_t> rows;   ///< rows of its feature file
  std::vector<std::string> titles;  ///< hover text (selected only)
  bool domain = false;

  Group(std::string l, std::string c, double r, double o)
      : label(std::move(l)), color(std::move(c)), radius(r), opacity(o) {}
};

}  // namespace

Section map_section(const RunData& run, const Limits& limits) {
  Section s{"map", "Embedding map (PCA)", ""};
  const std::string domain_path = run.path("embed/domain.h5"), cand_path = run.path("embed/candidates.json");
  std::error_code ec;
  for (const std::string& p : {domain_path, cand_path})
    if (!fs::exists(p, ec)) {
      s.body = not_available(fmt::format("{} is missing: the embed stage has not run", p));
      return s;
    }
  const store::FeatureReader domain(domain_path);
  const features::FeatureSet cands(cand_path);
  if (domain.dim() != cands.dim()) {
    s.body = not_available(
        fmt::format("{} has {} columns but {} has {}", domain_path, domain.dim(), cand_path, cands.dim()));
    return s;
  }
  const std::vector<std::int64_t> indices = cands.indices(0, cands.rows());
  std::unordered_map<std::int64_t, std::int64_t> row_of;  // record -> row
  for (size_t i = 0; i < indices.size(); ++i) row_of.emplace(indices[i], static_cast<std::int64_t>(i));

  std::vector<Group> groups;
  Group all(fmt::format("candidates ({})", cands.rows() > limits.map_points
                                               ? fmt::format("{} of {}", limits.map_points, cands.rows())
                                               : std::to_string(cands.rows())),
            "#9aa5b1", 2.0, 0.45);
  all.rows = spread(cands.rows(), limits.map_points);
  groups.push_back(all);
  if (run.preselected) {
    std::vector<std::int64_t> rows;
    for (std::int64_t r : run.preselected->records)
      if (const auto it = row_of.find(r); it != row_of.end()) rows.push_back(it->second);
    std::sort(rows.begin(), rows.end());
    Group g("pre-selected", "#f2a93b", 2.5, 0.6);
    for (std::int64_t k : spread(static_cast<std::int64_t>(rows.size()), limits.map_points)) g.rows.push_back(rows[k]);
    groups.push_back(g);
  }
  Group dom("domain", "#1f77b4", 3.0, 0.8);
  dom.rows = spread(domain.rows(), limits.map_points);
  dom.domain = true;
  groups.push_back(dom);
  std::int64_t missing = 0;
  if (run.scored && run.scored->selected_known) {
    std::vector<std::pair<std::int64_t, size_t>> sel;  // (rank, position in the table)
    for (size_t i = 0; i < run.scored->rank.size(); ++i)
      if (run.scored->rank[i] > 0) sel.emplace_back(run.scored->rank[i], i);
    std::sort(sel.begin(), sel.end());
    Group g("selected", "#d62728", 3.0, 0.85);
    for (std::int64_t k : spread(static_cast<std::int64_t>(sel.size()), limits.map_points)) {
      const size_t i = sel[static_cast<size_t>(k)].second;
      const auto it = row_of.find(run.scored->records[i]);
      if (it == row_of.end()) {
        ++missing;
        continue;
      }
      g.rows.push_back(it->second);
      if (sel.size() <= 500)
        g.titles.push_back(
            fmt::format("#{} {} ({})", run.scored->rank[i], run.scored->ids[i], number(run.scored->scores[i], 5)));
    }
    groups.push_back(g);
  }

  // Rows of every group, in group order, then the PCA of their union.
  const std::int64_t dim = cands.dim();
  std::int64_t n = 0;
  for (const Group& g : groups) n += static_cast<std::int64_t>(g.rows.size());
  std::vector<float> rows(static_cast<size_t>(n * dim));
  std::int64_t at = 0;
  for (const Group& g : groups)
    for (std::int64_t r : g.rows) {
      float* out = rows.data() + static_cast<size_t>(at++ * dim);
      if (g.domain)
        domain.read_rows(r, 1, out);
      else
        cands.read_rows(r, 1, out);
    }
  const Pca2 p = pca2(rows, n, dim);
  std::vector<util::ScatterSeries> series;
  at = 0;
  for (const Group& g : groups) {
    util::ScatterSeries sc;
    sc.label = g.label;
    sc.color = g.color;
    sc.radius = g.radius;
    sc.opacity = g.opacity;
    sc.titles = g.titles;
    for (size_t k = 0; k < g.rows.size(); ++k, ++at) {
      sc.x.push_back(p.x[static_cast<size_t>(at)]);
      sc.y.push_back(p.y[static_cast<size_t>(at)]);
    }
    series.push_back(sc);
  }
  util::PlotOptions o;
  const double total = p.total_variance > 0 ? p.total_variance : 1;
  o.title = "Embeddings on their first two principal components";
  o.x_label = fmt::format("PC 1 ({:.1f}% of the variance)", 100 * p.variance[0] / total);
  o.y_label = fmt::format("PC 2 ({:.1f}%)", 100 * p.variance[1] / total);
  o.width = 900;
  o.height = 640;
  s.body += fmt::format(
      "<p>Mean-pooled final hidden states (RUN/embed) of {} domain and {} candidate samples: principal components "
      "of the {} points drawn ({} dimensions), {} subspace iterations. Each group is at most {} points, spread "
      "evenly over it; the selected are drawn last.{}</p>\n",
      domain.rows(), cands.rows(), n, dim, p.iterations, limits.map_points,
      missing ? fmt::format(" {} selected records have no embedding row (another embed run?).", missing) : "");
  s.body += "<div class=\"plots\">" + util::svg_scatter(series, o) + "</div>\n";
  if (const std::string why = run.selection_missing(); !why.empty())
    s.body += not_available("the selected points: " + why);
  return s;
}

}  // namespace ntks::report
