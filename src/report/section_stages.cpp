// Stage times and throughput, from RUN/manifest.json and RUN/<stage>/manifest.json.

#include <fmt/format.h>

#include <algorithm>

#include "ntks/pipeline/stage.h"
#include "sections.h"

namespace ntks::report {
namespace {

std::int64_t count_of(const json& counts, const char* key) {
  return counts.is_object() && counts.contains(key) && counts[key].is_number_integer() ? counts[key].get<std::int64_t>()
                                                                                       : 0;
}

// What a stage processes per second, and in what unit: its own rows where it
// computes rows, else what it read.
std::pair<double, std::string> work(const std::string& stage, const json& counts, const RunData& run) {
  if (stage == "warmup") return {static_cast<double>(count_of(counts, "steps")), "steps"};
  if (stage == "embed" || stage == "grads") {
    const std::int64_t computed = count_of(counts, "computed");
    return {static_cast<double>(computed > 0 ? computed : count_of(counts, "domain") + count_of(counts, "candidates")),
            "samples"};
  }
  if (stage == "preselect") {
    const auto e = run.stage_manifests.find("embed");
    const std::int64_t searched =
        e != run.stage_manifests.end() ? count_of(e->second.value("counts", json()), "candidates") : 0;
    return {static_cast<double>(searched), "candidates searched"};
  }
  if (stage == "score") return {static_cast<double>(count_of(counts, "scored")), "candidates"};
  if (stage == "select") {
    const auto s = run.stage_manifests.find("score");
    const std::int64_t scored =
        s != run.stage_manifests.end() ? count_of(s->second.value("counts", json()), "scored") : 0;
    return {static_cast<double>(scored), "candidates"};
  }
  return {0, ""};
}

std::string seconds_text(double s) {
  if (s < 0.001) return fmt::format("{:.2f} ms", s * 1000);
  if (s < 60) return fmt::format("{:.3g} s", s);
  if (s < 3600) return fmt::format("{:.0f} min {:.0f} s", std::floor(s / 60), s - 60 * std::floor(s / 60));
  return fmt::format("{:.0f} h {:.0f} min", std::floor(s / 3600), (s - 3600 * std::floor(s / 3600)) / 60);
}

std::string rate_text(double v) {
  return v >= 100 ? fmt::format("{:.0f}", v) : v >= 1 ? fmt::format("{:.3g}", v) : fmt::format("{:.2g}", v);
}

std::string bytes_text(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) b /= 1024, ++u;
  return u == 0 ? fmt::format("{:.0f} B", b) : fmt::format("{:.1f} {}", b, units[u]);
}

}  // namespace

Section stages_section(const RunData& run) {
  Section s{"stages", "Stages: time and throughput", ""};
  struct Row {
    std::string stage, status;
    double seconds = 0;
    json counts = json::object();
    const json* manifest = nullptr;
  };
  std::vector<Row> rows;
  for (const std::string& stage : pipeline::stage_names()) {
    Row r;
    r.stage = stage;
    const auto m = run.stage_manifests.find(stage);
    if (m != run.stage_manifests.end()) {
      r.manifest = &m->second;
      r.status = "complete";
      r.seconds = m->second.value("seconds", 0.0);
      r.counts = m->second.value("counts", json::object());
    } else {
      r.status = "no manifest";
    }
    if (run.run_manifest)  // the run's word on what it did: ran / up to date / not run
      for (const auto& st : run.run_manifest->value("stages", json::array()))
        if (st.value("stage", "") == stage) {
          r.status = st.value("status", r.status);
          if (!r.manifest) r.counts = st.value("counts", json::object());
        }
    rows.push_back(r);
  }
  double longest = 0, total = 0;
  for (const Row& r : rows) longest = std::max(longest, r.seconds), total += r.seconds;
  std::vector<std::vector<std::string>> cells;
  for (const Row& r : rows) {
    std::string counts;
    for (const auto& [k, v] : r.counts.items()) {
      if ((k == "computed" || k == "reused") && count_of(r.counts, "reused") == 0) continue;
      counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", escape(k), escape(v.dump()));
    }
    const auto [n, unit] = work(r.stage, r.counts, run);
    const std::string rate =
        r.manifest && r.seconds > 0 && n > 0 ? fmt::format("{} {}/s", rate_text(n / r.seconds), unit) : "";
    double bytes = 0;
    if (r.manifest)
      for (const auto& o : r.manifest->value("outputs", json::array())) bytes += o.value("bytes", 0.0);
    const int width = longest > 0 ? static_cast<int>(120 * r.seconds / longest + 0.5) : 0;
    cells.push_back({escape(r.stage), escape(r.status), r.manifest ? seconds_text(r.seconds) : "",
                     r.manifest ? fmt::format("<span class=\"bar\" style=\"width:{}px\"></span>", width) : "", counts,
                     rate, r.manifest ? escape(r.manifest->value("ranks", json()).dump()) : "",
                     r.manifest ? bytes_text(bytes) : "",
                     r.manifest ? escape(r.manifest->value("started_utc", std::string())) : ""});
  }
  s.body += table({"stage", "status", "wall time", "", "counts", "throughput", "ranks", "outputs", "started (UTC)"},
                  cells, {2, 5, 6, 7});
  if (run.run_manifest) {
    const json& m = *run.run_manifest;
    s.body += fmt::format(
        "<p>Whole run (RUN/manifest.json): {} on {} rank(s); the stages that ran this time: {}. Config hash "
        "<code>{}</code>, ntk-select {}, LibTorch {}, BLAS: {}.</p>\n",
        seconds_text(m.value("seconds", 0.0)), escape(m.value("ranks", json()).dump()), seconds_text(total),
        escape(m.value("config_hash", std::string("?"))),
        escape(m.value(json::json_pointer("/versions/ntk-select"), std::string("?"))),
        escape(m.value(json::json_pointer("/versions/libtorch"), std::string("?"))),
        escape(m.value(json::json_pointer("/versions/blas"), std::string("not recorded"))));
  } else {
    s.body +=
        "<p class=\"note\">No RUN/manifest.json (written at the end of a complete `ntk-select run`): the times "
        "are those of the stage manifests present.</p>\n";
  }
  s.body +=
      "<p class=\"note\">Wall time as each stage's manifest records it (the run that last computed it; a stage "
      "skipped as up to date keeps its earlier time). Throughput: rows computed per second (embed, grads), "
      "optimizer steps (warmup), candidates searched (preselect) or scored (score, select).</p>\n";
  return s;
}

}  // namespace ntks::report
