// `ntk-select run` through the real binary on a tiny model: a full run, a
// rerun that skips every stage and changes nothing, runs killed between and
// inside stages that restart to the same selection, the same selection on
// 1, 2 and 3 ranks, and the errors of single stages run out of order or on
// another model's outputs.

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "run_fixture.h"
#include "test_util.h"

using ntks::testing::count_of;

namespace {

using namespace ntks;
using namespace ntks::testing::run;
using ntks::testing::run_command;
using ntks::testing::TempDir;
namespace fs = std::filesystem;

TEST(RunCli, FullRunThenARerunSkipsEveryStageAndChangesNothing) {
  RunFixture f;
  auto first = f.ntks("a", "run");
  ASSERT_EQ(first.status, 0) << first.output;
  const std::string run = f.run_dir("a");
  for (const auto& s : kStages) EXPECT_TRUE(fs::exists(run + "/" + s + "/manifest.json")) << s;
  // one summary: every stage ran, counts, where the selection is
  EXPECT_EQ(count_of(first.output, "run: complete"), 1u) << first.output;
  EXPECT_NE(first.output.find("6 stage(s) ran, 0 up to date"), std::string::npos) << first.output;
  EXPECT_NE(first.output.find("preselected 12"), std::string::npos) << first.output;
  EXPECT_NE(first.output.find("selected 6"), std::string::npos) << first.output;
  EXPECT_NE(first.output.find("selected: " + run + "/select/{"), std::string::npos) << first.output;
  const auto m = nlohmann::json::parse(read_file(run + "/manifest.json"));
  EXPECT_EQ(m["stages"].size(), 6u);
  EXPECT_EQ(m["config_hash"].get<std::string>().size(), 16u);
  EXPECT_EQ(m["inputs"]["candidates"][0]["bytes"], fs::file_size(f.dir.file("candidates.jsonl")));
  const auto grads = nlohmann::json::parse(read_file(run + "/grads/manifest.json"));
  EXPECT_EQ(grads["counts"]["candidates"], 12);  // the pre-selected ones only
  EXPECT_EQ(grads["counts"]["domain"], 6);
  EXPECT_EQ(count_of(read_file(run + "/select/selected_ids.txt"), "\n"), 6u);
  const Selection a = selection(run);
  const auto mtime = fs::last_write_time(run + "/select/selected.jsonl");

  auto again = f.ntks("a", "run");
  ASSERT_EQ(again.status, 0) << again.output;
  for (const auto& s : kStages) EXPECT_NE(again.output.find(s + ": up to date, skipped"), std::string::npos) << s;
  EXPECT_NE(again.output.find("0 stage(s) ran, 6 up to date"), std::string::npos) << again.output;
  EXPECT_EQ(again.output.find("warmup: 6 samples"), std::string::npos) << "warmup ran again";
  expect_same(a, selection(run));
  EXPECT_EQ(fs::last_write_time(run + "/select/selected.jsonl"), mtime);

  // A key of the select stage: only select runs; --from grads: grads onwards.
  auto size = f.ntks("a", "run --set select.size=4");
  ASSERT_EQ(size.status, 0) << size.output;
  EXPECT_NE(size.output.find("score: up to date, skipped"), std::string::npos) << size.output;
  EXPECT_NE(size.output.find("select: running (config select.size: 6 -> 4)"), std::string::npos) << size.output;
  EXPECT_EQ(count_of(read_file(run + "/select/selected_ids.txt"), "\n"), 4u);
  auto from = f.ntks("a", "run --from grads");
  ASSERT_EQ(from.status, 0) << from.output;
  EXPECT_NE(from.output.find("preselect: up to date, skipped"), std::string::npos) << from.output;
  EXPECT_NE(from.output.find("grads: running (--from grads)"), std::string::npos) << from.output;
  expect_same(a, selection(run));  // select.size back to 6 from the config file

  // --to: stops after that stage, leaves no run manifest
  auto to = f.ntks("b", "run --to embed");
  ASSERT_EQ(to.status, 0) << to.output;
  EXPECT_TRUE(fs::exists(f.run_dir("b") + "/embed/manifest.json"));
  EXPECT_FALSE(fs::exists(f.run_dir("b") + "/preselect"));
  EXPECT_FALSE(fs::exists(f.run_dir("b") + "/manifest.json"));
  EXPECT_NE(to.output.find("run: stopped"), std::string::npos) << to.output;
}

TEST(RunCli, RunsKilledBetweenAndInsideStagesRestartToTheSameSelection) {
  RunFixture f;
  auto whole = f.ntks("whole", "run");
  ASSERT_EQ(whole.status, 0) << whole.output;
  const Selection expected = selection(f.run_dir("whole"));

  // 6 domain records and 30 candidates in blocks of 4: embed commits 2 + 8
  // blocks, grads 2 + 3. Each restart continues where the last one died.
  struct Kill {
    std::string env, resumed_stage;
  };
  const std::vector<Kill> kills = {
      {"NTKS_TEST_KILL_AFTER_STAGE=warmup", "embed"},
      {"NTKS_TEST_KILL_AFTER_BLOCKS=5", "embed"},       // inside embed's candidates
      {"NTKS_TEST_KILL_AFTER_STAGE=preselect", "grads"},
      {"NTKS_TEST_KILL_AFTER_BLOCKS=3", "grads"},       // inside grads' candidates
      {"NTKS_TEST_KILL_AFTER_STAGE=score", "select"},
  };
  std::string last = "warmup";
  for (const Kill& k : kills) {
    auto killed = f.ntks("k", "run", k.env);
    ASSERT_NE(killed.status, 0) << k.env << "\n" << killed.output;
    // every stage before the one that was running was skipped
    for (const auto& s : kStages) {
      if (s == last) break;
      EXPECT_NE(killed.output.find(s + ": up to date, skipped"), std::string::npos) << k.env << " " << s;
    }
    last = k.resumed_stage;
    EXPECT_FALSE(fs::exists(f.run_dir("k") + "/" + last + "/manifest.json")) << k.env;
  }
  auto done = f.ntks("k", "run");
  ASSERT_EQ(done.status, 0) << done.output;
  EXPECT_NE(done.output.find("score: up to date, skipped"), std::string::npos) << done.output;
  expect_same(expected, selection(f.run_dir("k")));
}

// A run on `np` ranks selects what one rank selects; a rerun on `rerun_np`
// ranks skips every stage, since no result depends on the rank count.
void same_selection_on(int np, int rerun_np) {
  RunFixture f;
  auto one = f.ntks("np1", "run");
  ASSERT_EQ(one.status, 0) << one.output;
  const Selection a = selection(f.run_dir("np1"));
  auto r = f.ntks("many", "run", fmt::format("mpirun --oversubscribe -np {}", np));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(count_of(r.output, "run: complete"), 1u) << r.output;  // rank 0 alone prints the summary
  const Selection b = selection(f.run_dir("many"));
  EXPECT_EQ(a.ids, b.ids) << np << " ranks";
  EXPECT_EQ(a.jsonl, b.jsonl) << np << " ranks";
  EXPECT_EQ(a.scores.ids, b.scores.ids) << np << " ranks";
  // The warm-up sums its gradients exactly (train/exact_sum.h): the same
  // adapter bytes, hence the same scores, on any rank count.
  EXPECT_EQ(a.scores.scores, b.scores.scores) << np << " ranks";
  EXPECT_EQ(read_file(f.run_dir("np1") + "/warmup/adapter_model.safetensors"),
            read_file(f.run_dir("many") + "/warmup/adapter_model.safetensors"))
      << np << " ranks";
  const auto m = nlohmann::json::parse(read_file(f.run_dir("many") + "/manifest.json"));
  EXPECT_EQ(m["ranks"], np);
  if (rerun_np > 0) {
    auto again = f.ntks("many", "run", fmt::format("mpirun --oversubscribe -np {}", rerun_np));
    ASSERT_EQ(again.status, 0) << again.output;
    EXPECT_NE(again.output.find("0 stage(s) ran, 6 up to date"), std::string::npos) << again.output;
  }
}

TEST(RunCli, TheSameSelectionOnOneAndTwoRanks) { same_selection_on(2, 3); }
TEST(RunCli, TheSameSelectionOnOneAndThreeRanks) { same_selection_on(3, 0); }

TEST(RunCli, SingleStagesNameMissingInputsAndRefuseAnotherModelsOutputs) {
  RunFixture f(true);
  const std::string run = f.run_dir("s");
  auto score = f.ntks("s", "score");
  EXPECT_EQ(score.status, 1) << score.output;
  EXPECT_NE(score.output.find(run + "/grads/domain_mean.h5: missing; it is made by the grads stage"),
            std::string::npos)
      << score.output;
  auto embed = f.ntks("s", "embed");
  EXPECT_EQ(embed.status, 1) << embed.output;
  EXPECT_NE(embed.output.find(run + "/warmup/adapter_config.json: missing; it is made by the warmup stage"),
            std::string::npos)
      << embed.output;

  // the warm-up adapter was trained on `model`: embedding with another model is refused
  auto warmup = f.ntks("s", "warmup");
  ASSERT_EQ(warmup.status, 0) << warmup.output;
  auto other = f.ntks("s", "embed --set model.path=" + f.other_model);
  EXPECT_EQ(other.status, 1) << other.output;
  EXPECT_NE(other.output.find(run + "/warmup/manifest.json: the warmup outputs were made with model " + f.model),
            std::string::npos)
      << other.output;
  EXPECT_NE(other.output.find("uses model " + f.other_model), std::string::npos) << other.output;
  EXPECT_FALSE(fs::exists(run + "/embed"));
  // ... and `run` with the other model redoes the warm-up instead
  auto all = f.ntks("s", "run --to warmup --set model.path=" + f.other_model);
  ASSERT_EQ(all.status, 0) << all.output;
  EXPECT_NE(all.output.find("warmup: running (config model.path: "), std::string::npos) << all.output;
}

TEST(RunCli, StagesRunOneByOneWriteTheManifestsRunSkips) {
  RunFixture f;
  const std::string run = f.run_dir("s");
  for (const std::string& s : {"warmup", "embed", "preselect"}) {
    auto r = f.ntks("s", s);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_TRUE(fs::exists(run + "/" + s + "/manifest.json")) << s;
  }
  auto partial = f.ntks("s", "grads --which domain");  // part of a stage: no manifest
  ASSERT_EQ(partial.status, 0) << partial.output;
  EXPECT_FALSE(fs::exists(run + "/grads/manifest.json"));
  auto grads = f.ntks("s", "grads --preselected " + run + "/preselect/preselected.h5");
  ASSERT_EQ(grads.status, 0) << grads.output;
  EXPECT_TRUE(fs::exists(run + "/grads/manifest.json"));
  auto rest = f.ntks("s", "run");
  ASSERT_EQ(rest.status, 0) << rest.output;
  EXPECT_NE(rest.output.find("grads: up to date, skipped"), std::string::npos) << rest.output;
  EXPECT_NE(rest.output.find("score: running (no manifest"), std::string::npos) << rest.output;
  EXPECT_NE(rest.output.find("2 stage(s) ran, 4 up to date"), std::string::npos) << rest.output;
}

TEST(RunCli, HelpAndUsageErrors) {
  auto r = run_command(fmt::format("{} run --help", NTKS_BINARY));
  EXPECT_EQ(r.status, 0);
  for (const char* s : {"--from", "--to", "--force", "manifest.json", "up to date"})
    EXPECT_NE(r.output.find(s), std::string::npos) << s;
  RunFixture f;  // the model is never loaded: usage errors come first
  r = f.ntks("u", "run --from grad");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("--from grad: no such stage; did you mean 'grads'?"), std::string::npos) << r.output;
  r = f.ntks("u", "run --from select --to embed");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("--from select comes after --to embed"), std::string::npos) << r.output;
}

}  // namespace
