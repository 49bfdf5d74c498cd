// Cost forecasts (features/forecast.h): `run --dry-run`'s and those embed and
// grads wrote after their first block, beside the wall time the stage took.

#include <fmt/format.h>

#include "ntks/log/progress.h"
#include "sections.h"

namespace ntks::report {
namespace {

std::string duration(double s) { return s < 60 ? fmt::format("{:.3g} s", s) : log::format_duration(s); }

}  // namespace

Section forecast_section(const RunData& run) {
  Section s{"forecast", "Cost forecast", ""};
  std::vector<std::vector<std::string>> cells;
  for (const char* name : {"dry-run", "embed", "grads"}) {
    const std::optional<json> f = read_json_file(run.path(fmt::format("forecast/{}.json", name)));
    if (!f) continue;
    for (const json& st : f->value("stages", json::array())) {
      const std::string stage = st.value("stage", "");
      const auto m = run.stage_manifests.find(stage);
      const std::string measured =
          m != run.stage_manifests.end() ? duration(m->second.value("seconds", 0.0)) : "";
      cells.push_back({escape(f->value("source", std::string(name))), escape(stage),
                       escape(st.value("work", std::string())), fmt::format("{}", st.value("samples", 0)),
                       fmt::format("{:.4g}", st.value("rate_per_rank", 0.0)), fmt::format("{}", st.value("ranks", 0)),
                       duration(st.value("seconds", 0.0)), measured,
                       escape(st.value("basis", std::string()))});
    }
  }
  if (cells.empty()) {
    s.body = not_available(
        "no RUN/forecast/*.json (embed and grads write one after their first block of candidates; "
        "`ntk-select run --dry-run` writes dry-run.json)");
    return s;
  }
  s.body = table({"source", "stage", "work", "samples", "samples/s per rank", "ranks", "forecast", "took",
                  "measured on"},
                 cells, {3, 4, 5, 6, 7});
  s.body +=
      "<p class=\"note\">Forecast = samples / (rate per rank &times; ranks). &lsquo;took&rsquo;: the wall time the "
      "stage's manifest records (the whole stage, domain set included).</p>\n";
  return s;
}

}  // namespace ntks::report
