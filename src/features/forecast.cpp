// Stage cost forecasts: the table `run --dry-run` prints and the JSON the
// report reads.

#include "ntks/features/forecast.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <algorithm>

#include "ntks/features/feature_job.h"
#include "ntks/log/progress.h"
#include "ntks/util/error.h"
#include "ntks/util/files.h"

namespace ntks::features {

double StageForecast::seconds() const {
  NTKS_CHECK(rate > 0 && ranks > 0, "{}: forecast needs a positive rate and rank count (rate {}, ranks {})", stage,
             rate, ranks);
  return static_cast<double>(samples) / (rate * (parallel > 0 ? parallel : ranks));
}

double parallel_ranks(const std::vector<SharedList>& lists, int ranks) {
  int64_t total = 0, longest = 0;
  for (const SharedList& l : lists) {
    int64_t most = 0;
    for (int r = 0; r < ranks; ++r)
      most = std::max(most, group_aligned_shard(l.records, l.group_rows, r, ranks).size());
    total += l.records;
    longest += most;
  }
  return longest > 0 ? static_cast<double>(total) / static_cast<double>(longest) : ranks;
}

std::string forecast_table(const std::vector<StageForecast>& rows) {
  std::string out = fmt::format("  {:<10} {:>12} {:>14} {:>6} {:>8} {:>10}  {}\n", "stage", "samples",
                                "samples/s/rank", "ranks", "busy", "forecast", "work (measured on)");
  double total = 0;
  for (const StageForecast& r : rows) {
    total += r.seconds();
    out += fmt::format("  {:<10} {:>12} {:>14.4g} {:>6} {:>8.3g} {:>10}  {} ({})\n", r.stage, r.samples, r.rate, r.ranks,
                       r.parallel > 0 ? r.parallel : r.ranks, log::format_duration(r.seconds()), r.work, r.basis);
  }
  out += fmt::format("  {:<10} {:>12} {:>14} {:>6} {:>8} {:>10}\n", "total", "", "", "", "", log::format_duration(total));
  return out;
}

void write_forecast_json(const std::string& path, const std::vector<StageForecast>& rows, const std::string& source) {
  nlohmann::json stages = nlohmann::json::array();
  double total = 0;
  for (const StageForecast& r : rows) {
    total += r.seconds();
    stages.push_back({{"stage", r.stage},
                      {"work", r.work},
                      {"samples", r.samples},
                      {"rate_per_rank", r.rate},
                      {"ranks", r.ranks},
                      {"parallel", r.parallel > 0 ? r.parallel : r.ranks},
                      {"seconds", r.seconds()},
                      {"basis", r.basis}});
  }
  write_file_atomic(path,
                    nlohmann::json{{"source", source}, {"stages", stages}, {"total_seconds", total}}.dump(2) + "\n");
}

}  // namespace ntks::features
