#pragma once
// `ntk-select report RUN`: one self-contained HTML page about a run folder —
// stage times and throughput, the score distribution, the kNN votes, the
// selection's composition by file and label, a 2-D PCA map of the
// embeddings, the best and worst selected samples and the diagnostics of
// RUN/diagnose/. Every section that lacks its input (a run stopped early, a
// method without that stage) says "not available: why"; only a folder that is
// not a run at all is an error.

#include <cstdint>
#include <string>
#include <vector>

namespace ntks::report {

struct ReportOptions {
  std::string run_dir;                ///< RUN
  std::string out;                    ///< the HTML file; empty: RUN/report.html
  std::int64_t map_points = 2000;     ///< at most this many points per group of the PCA map
  std::int64_t label_sample = 20000;  ///< at most this many pool records read for the label shares
  std::int64_t samples = 10;          ///< best and worst selected samples shown
};

struct ReportSummary {
  std::string path;                        ///< where the page was written
  std::uint64_t bytes = 0;                 ///< its size
  double seconds = 0;                      ///< time to build and write it
  std::vector<std::string> sections;       ///< section titles, in order
  std::vector<std::string> not_available;  ///< titles of the sections that lack (part of) their input
};

/// The page's HTML. InputError naming the folder when it does not exist or
/// holds no manifest (neither RUN/manifest.json nor RUN/<stage>/manifest.json).
std::string render_report(const ReportOptions& options, ReportSummary* summary = nullptr);

/// render_report() written atomically to options.out (default RUN/report.html).
ReportSummary write_report(const ReportOptions& options);

}  // namespace ntks::report
