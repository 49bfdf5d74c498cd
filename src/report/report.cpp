#include "ntks/report/report.h"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <functional>

#include "ntks/build_config.h"
#include "ntks/log/log.h"
#include "ntks/util/error.h"
#include "ntks/util/files.h"
#include "sections.h"

namespace ntks::report {
namespace {

namespace fs = std::filesystem;

// A section built by `make`; an error inside it becomes its "not available" line.
Section guarded(const std::string& id, const std::string& title, const std::function<Section()>& make) {
  try {
    return make();
  } catch (const std::exception& e) {
    log::warn("report: section '{}' left out: {}", title, e.what());
    return {id, title, not_available(e.what())};
  }
}

// The folder's name, also when it is given with a trailing slash.
std::string folder_name(const std::string& dir) {
  const fs::path p = fs::absolute(dir).lexically_normal();
  return p.has_filename() ? p.filename().string() : p.parent_path().filename().string();
}

std::string subtitle(const RunData& run) {
  std::string out = "Run folder <code>" + escape(fs::absolute(run.dir).lexically_normal().string()) + "</code>";
  out += fmt::format(" &middot; select.method <b>{}</b>", escape(run.method));
  if (run.method == "ntk") out += fmt::format(" (score.rule {})", escape(run.rule));
  if (run.scored && run.scored->selected_known)
    out += fmt::format(" &middot; <b>{}</b> selected of {} scored", run.scored->selected(), run.scored->records.size());
  if (run.run_manifest)
    out +=
        " &middot; config hash <code>" + escape(run.run_manifest->value("config_hash", std::string("?"))) + "</code>";
  else
    out += " &middot; <span class=\"na\">no RUN/manifest.json: the run has not completed</span>";
  return out + " &middot; written by ntk-select " NTKS_VERSION;
}

}  // namespace

std::string render_report(const ReportOptions& options, ReportSummary* summary) {
  const RunData run = load_run(options.run_dir);
  Limits limits;
  limits.map_points = std::max<std::int64_t>(1, options.map_points);
  limits.label_sample = std::max<std::int64_t>(1, options.label_sample);
  limits.samples = std::max<std::int64_t>(1, options.samples);
  const Corpus corpus = run.scored && run.scored->selected_known ? open_corpus(run) : Corpus{nullptr, "no selection"};
  std::vector<Section> sections = {
      guarded("stages", "Stages: time and throughput", [&] { return stages_section(run); }),
      guarded("forecast", "Cost forecast", [&] { return forecast_section(run); }),
      guarded("scores", "Score distribution", [&] { return scores_section(run); }),
      guarded("knn", "kNN pre-selection: relevance votes", [&] { return knn_section(run); }),
      guarded("composition", "Composition of the selection", [&] { return composition_section(run, corpus, limits); }),
      guarded("map", "Embedding map (PCA)", [&] { return map_section(run, limits); }),
      guarded("samples", "Best and worst selected samples", [&] { return samples_section(run, corpus, limits); }),
      guarded("diagnostics", "Diagnostics", [&] { return diagnostics_section(run); }),
  };
  if (summary) {
    summary->sections.clear();
    summary->not_available.clear();
    for (const Section& s : sections) {
      summary->sections.push_back(s.title);
      if (s.body.find("class=\"na\"") != std::string::npos) summary->not_available.push_back(s.title);
    }
  }
  return page("ntk-select report: " + folder_name(run.dir), subtitle(run), sections);
}

ReportSummary write_report(const ReportOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  ReportSummary s;
  const std::string html = render_report(options, &s);
  s.path = options.out.empty() ? (fs::path(options.run_dir) / "report.html").string() : options.out;
  const fs::path parent = fs::path(s.path).parent_path();
  if (!parent.empty()) fs::create_directories(parent);
  write_file_atomic(s.path, html);
  s.bytes = html.size();
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return s;
}

}  // namespace ntks::report
