// Cost forecasts (features/forecast.h): the arithmetic, `run --dry-run`
// (every model stage timed on a short sample, nothing run), and the forecast
// embed and grads log and write after their first block of candidates.

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "ntks/features/feature_job.h"
#include "ntks/features/forecast.h"
#include "run_fixture.h"

namespace {

using namespace ntks;
using namespace ntks::testing::run;
using ntks::testing::count_of;
namespace fs = std::filesystem;

constexpr int kCandidates = 30, kDomain = 6, kPreselected = 12;  // the RunFixture's

TEST(RunForecast, StageTimeIsSamplesOverRateTimesRanks) {
  features::StageForecast f{"embed", "candidates + domain", 1'800'000, 250, 8, 0, "64 samples in 0.26s"};
  EXPECT_DOUBLE_EQ(f.seconds(), 1'800'000.0 / 2000);
  features::StageForecast g{"grads", "pre-selected m + domain", 40'960, 10, 8, 0, "first block"};
  const std::string table = features::forecast_table({f, g});
  EXPECT_NE(table.find("embed"), std::string::npos) << table;
  EXPECT_NE(table.find("15m00s"), std::string::npos) << table;  // 900 s
  EXPECT_NE(table.find("8m32s"), std::string::npos) << table;   // 512 s
  EXPECT_NE(table.find("total"), std::string::npos) << table;
  EXPECT_NE(table.find("23m32s"), std::string::npos) << table;
  features::StageForecast bad{"grads", "", 10, 0, 1, 0, ""};
  EXPECT_THROW(bad.seconds(), std::exception);
}

// Lists with fewer groups than ranks leave ranks idle: the forecast counts
// the ranks that work in effect.
TEST(RunForecast, RanksWithoutAGroupAreNotCountedAsWorking) {
  using features::parallel_ranks;
  EXPECT_DOUBLE_EQ(parallel_ranks({{4096, 1024}}, 4), 4.0);
  EXPECT_DOUBLE_EQ(parallel_ranks({{400, 1024}, {200, 1024}}, 2), 1.0);  // whole blocks: one rank does all
  // 5000 candidates in 5 groups of 1024: 2048 | 2952 rows; the 200 domain samples on one rank.
  EXPECT_DOUBLE_EQ(parallel_ranks({{5000, 1024}, {200, 1024}}, 2), 5200.0 / 3152.0);
  // The demo's grads with automatic groups (16 rows: 25 and 13 groups): 192 | 208 and 96 | 104.
  const int64_t m = features::group_rows(400, 1024, 8, 0), d = features::group_rows(200, 1024, 8, 0);
  EXPECT_EQ(m, 16);
  EXPECT_EQ(d, 16);
  EXPECT_DOUBLE_EQ(parallel_ranks({{400, m}, {200, d}}, 2), 600.0 / 312.0);
  features::StageForecast f{"grads", "", 600, 50, 2, parallel_ranks({{400, 1024}, {200, 1024}}, 2), ""};
  EXPECT_DOUBLE_EQ(f.seconds(), 12.0);
}

// The dry run on `np` ranks: every stage ntk uses, the work of the whole run,
// a rate per rank, and nothing but the forecast written.
void dry_run_on(int np) {
  RunFixture f;
  const std::string prefix = np > 1 ? fmt::format("mpirun --oversubscribe -np {}", np) : "";
  auto r = f.ntks("d", "run --dry-run --dry-run-samples 8", prefix);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(count_of(r.output, "run --dry-run: forecast for 30 candidates and 6 domain samples"), 1u) << r.output;
  const std::string run = f.run_dir("d");
  std::vector<std::string> entries;
  for (const auto& e : fs::directory_iterator(run)) entries.push_back(e.path().filename().string());
  EXPECT_EQ(entries, std::vector<std::string>{"forecast"}) << "a dry run runs no stage";
  const auto j = nlohmann::json::parse(read_file(run + "/forecast/dry-run.json"));
  ASSERT_EQ(j["stages"].size(), 4u) << j.dump(1);
  const std::vector<std::pair<std::string, int64_t>> want = {
      {"warmup", kDomain}, {"embed", kCandidates + kDomain}, {"preselect", kCandidates},
      {"grads", kPreselected + kDomain}};
  double total = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const auto& s = j["stages"][i];
    EXPECT_EQ(s["stage"], want[i].first);
    EXPECT_EQ(s["samples"], want[i].second) << s.dump();
    EXPECT_EQ(s["ranks"], np);
    EXPECT_GT(s["rate_per_rank"].get<double>(), 0);
    // The fixture's store.block_rows 4: 30 candidates, 6 domain samples and 12 pre-selected
    // are several blocks each, so on 2 ranks both work (nearly) all the time.
    const double parallel = s["parallel"].get<double>();
    EXPECT_GE(parallel, np > 1 ? 1.5 : 1.0) << s.dump();
    EXPECT_LE(parallel, np);
    EXPECT_NEAR(s["seconds"].get<double>(), s["samples"].get<double>() / (s["rate_per_rank"].get<double>() * parallel),
                1e-9 * s["seconds"].get<double>());
    total += s["seconds"].get<double>();
    EXPECT_NE(r.output.find("  " + want[i].first), std::string::npos) << r.output;
  }
  EXPECT_NEAR(j["total_seconds"].get<double>(), total, 1e-9 * total);
}

TEST(RunForecast, DryRunTimesEveryModelStageAndRunsNone) { dry_run_on(1); }
TEST(RunForecast, DryRunOnTwoRanksForecastsForTwoRanks) { dry_run_on(2); }

TEST(RunForecast, DryRunLeavesOutTheStagesAMethodDoesNotUse) {
  RunFixture f;
  auto knn = f.ntks("k", "run --dry-run --dry-run-samples 4 --set select.method=knn");
  ASSERT_EQ(knn.status, 0) << knn.output;
  const auto j = nlohmann::json::parse(read_file(f.run_dir("k") + "/forecast/dry-run.json"));
  ASSERT_EQ(j["stages"].size(), 3u) << j.dump(1);
  EXPECT_EQ(j["stages"][2]["stage"], "preselect");
  auto random = f.ntks("r", "run --dry-run --set select.method=random");
  ASSERT_EQ(random.status, 0) << random.output;
  EXPECT_NE(random.output.find("select.method random runs no model stage"), std::string::npos) << random.output;
  auto one = f.ntks("o", "run --dry-run --dry-run-samples 1");
  EXPECT_EQ(one.status, 2) << one.output;
  EXPECT_NE(one.output.find("--dry-run-samples 1: at least 2"), std::string::npos) << one.output;
}

TEST(RunForecast, EmbedAndGradsForecastTheWholeStageAfterTheirFirstBlock) {
  RunFixture f;  // store.block_rows 4: 30 candidates are 8 blocks, the 12 pre-selected 3
  auto r = f.ntks("a", "run");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(count_of(r.output, "embed candidates: first block"), 1u) << r.output;
  EXPECT_NE(r.output.find("for this shard's 26 records left"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("for all 30 records on 1 shard(s)"), std::string::npos) << r.output;
  EXPECT_EQ(count_of(r.output, "grads candidates: first block"), 1u) << r.output;
  EXPECT_NE(r.output.find("for all 12 records on 1 shard(s)"), std::string::npos) << r.output;
  for (const auto& [stage, samples] : {std::pair{"embed", kCandidates}, std::pair{"grads", kPreselected}}) {
    const auto j = nlohmann::json::parse(read_file(f.run_dir("a") + "/forecast/" + stage + ".json"));
    EXPECT_EQ(j["source"], "first block");
    ASSERT_EQ(j["stages"].size(), 1u);
    EXPECT_EQ(j["stages"][0]["samples"], samples);
    EXPECT_EQ(j["stages"][0]["basis"].get<std::string>().rfind("first block: 4 records in ", 0), 0u) << j.dump();
  }
  // The forecast is no stage output: a rerun still finds every stage up to date.
  auto again = f.ntks("a", "run");
  ASSERT_EQ(again.status, 0) << again.output;
  EXPECT_NE(again.output.find("0 stage(s) ran, 6 up to date"), std::string::npos) << again.output;
  // On two ranks, rank 0's shard forecasts for both.
  auto two = f.ntks("b", "run", "mpirun --oversubscribe -np 2");
  ASSERT_EQ(two.status, 0) << two.output;
  EXPECT_NE(two.output.find("for all 30 records on 2 shard(s)"), std::string::npos) << two.output;
}

}  // namespace
