// `ntk-select report [RUN]`: one self-contained HTML page about a run folder.

#include <iostream>

#include "command.h"
#include "ntks/log/log.h"
#include "ntks/report/report.h"
#include "ntks/util/error.h"

namespace ntks::cli {
namespace {

int report_main(Context& ctx) {
  const po::variables_map& a = ctx.args;
  report::ReportOptions o;
  if (a.count("run")) {
    const auto dirs = a["run"].as<std::vector<std::string>>();
    if (dirs.size() > 1) throw UsageError(fmt::format("report takes one run folder, got {}", dirs.size()));
    o.run_dir = dirs.front();
  } else {
    o.run_dir = ctx.cfg.run.dir;
  }
  if (o.run_dir.empty()) throw UsageError("no run folder: `ntk-select report RUN`, or --config with run.dir");
  if (a.count("out")) o.out = a["out"].as<std::string>();
  o.map_points = a["map-points"].as<std::int64_t>();
  o.label_sample = a["label-sample"].as<std::int64_t>();
  o.samples = a["samples"].as<std::int64_t>();
  for (const auto& [name, v] :
       {std::pair{"--map-points", o.map_points}, {"--label-sample", o.label_sample}, {"--samples", o.samples}})
    if (v < 1) throw UsageError(fmt::format("{} {}: expected at least 1", name, v));
  if (!ctx.comm.is_root()) return 0;  // one page, written by one process
  const report::ReportSummary s = report::write_report(o);
  std::string missing;
  for (const std::string& t : s.not_available) missing += (missing.empty() ? "" : "; ") + t;
  std::cout << fmt::format("report: {} ({:.1f} KiB, {} sections, {:.2f} s){}", s.path, s.bytes / 1024.0,
                           s.sections.size(), s.seconds, missing.empty() ? "" : "; partly not available: " + missing)
            << std::endl;
  return 0;
}

}  // namespace

Command report_command() {
  Command c;
  c.name = "report";
  c.summary = "one self-contained HTML page about a run: times, scores, votes, composition, PCA map, samples";
  c.description =
      "Reads a run folder (RUN: the positional argument, else run.dir of --config / --set) and writes one\n"
      "HTML file (--out, default RUN/report.html) that needs nothing else: its style is inline, its plots\n"
      "are inline SVG, and it loads no script, font, style sheet or image, so it opens offline and can be\n"
      "mailed or archived as it is. Sections:\n\n"
      "  Stages       wall time, counts, throughput, ranks and output sizes of each stage\n"
      "               (RUN/<stage>/manifest.json; status from RUN/manifest.json after `ntk-select run`)\n"
      "  Scores       histogram of the scores (RUN/select/scores.h5, else RUN/score/scores.h5),\n"
      "               selected against not selected, with min/mean/max\n"
      "  kNN          histogram of the pre-selected candidates' relevance votes\n"
      "               (RUN/preselect/preselected.h5), selected against not selected\n"
      "  Composition  the selection by candidate file and, where records carry a label field (label,\n"
      "               topic or category: demo-data's topic), by label against the pool; the on-topic\n"
      "               share when the corpus is demo-data's pool.jsonl alone (labels.json beside it)\n"
      "  Map          the domain, candidate, pre-selected and selected embeddings (RUN/embed) on their\n"
      "               first two principal components; each group at most --map-points points\n"
      "  Samples      the best and the worst --samples selected samples with score and votes\n"
      "  Diagnostics  every RUN/diagnose/*.json (its scalar values) and *.svg (inline), as\n"
      "               `ntk-select diagnose` writes them\n\n"
      "A section whose input is missing (a run stopped with --to, a select.method without that\n"
      "stage, a corpus moved away) says \"not available: why\"; the page is still written. A folder\n"
      "that does not exist or holds no manifest at all is an error (exit status 1). `ntk-select run`\n"
      "writes RUN/report.html at its end. Runs on one process (under mpirun, rank 0 writes it).\n\n"
      "  ntk-select report runs/medicine                  # -> runs/medicine/report.html\n"
      "  ntk-select report --config my.yaml --out /tmp/r.html --map-points 5000";
  c.positional = "run";
  c.options = [](po::options_description& o) {
    // clang-format off
    o.add_options()
        ("run", po::value<std::vector<std::string>>(), "the run folder (positional; default: run.dir)")
        ("out", po::value<std::string>(), "the HTML file to write (default: RUN/report.html)")
        ("map-points", po::value<std::int64_t>()->default_value(2000),
         "at most this many points per group (candidates, pre-selected, domain, selected) on the PCA map, "
         "spread evenly over the group; the page grows by about 60 bytes a point")
        ("label-sample", po::value<std::int64_t>()->default_value(20000),
         "pool records read (spread evenly) for the label shares of the pool; all when the pool is smaller")
        ("samples", po::value<std::int64_t>()->default_value(10), "best and worst selected samples listed");
    // clang-format on
  };
  c.run = report_main;
  return c;
}

}  // namespace ntks::cli
