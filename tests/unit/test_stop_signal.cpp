// Graceful stop (util/stop.h): SIGTERM inside a stoppable section stops at
// the next block boundary with exit status 75 and a resumable partial file;
// outside one, or a second time, the signal keeps its default action. The
// CLI tests use the NTKS_TEST_TERM_AFTER_BLOCKS hook, which sends the process
// a real SIGTERM at a chosen block, so nothing depends on timing.

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fmt/format.h>

#include "byte_tokenizer.h"
#include "ntks/features/feature_set.h"
#include "ntks/util/stop.h"
#include "test_util.h"

namespace {

using namespace ntks;
using ntks::testing::run_command;
using ntks::testing::TempDir;

TEST(StopSignal, OutsideAStoppableSectionTheSignalEndsTheProcess) {
  EXPECT_EXIT(
      {
        util::install_stop_handlers();
        std::raise(SIGTERM);
        std::_Exit(0);
      },
      ::testing::KilledBySignal(SIGTERM), "");
}

TEST(StopSignal, InsideASectionTheFirstSignalRequestsAStopAndTheSecondEndsTheProcess) {
  EXPECT_EXIT(
      {
        util::install_stop_handlers();
        util::StopScope scope;
        std::raise(SIGINT);
        if (!util::stop_requested()) std::_Exit(1);
        try {
          util::stop_point("block 3");
        } catch (const util::StopRequested&) {
          std::_Exit(util::kStopExitCode);
        }
        std::_Exit(2);
      },
      ::testing::ExitedWithCode(util::kStopExitCode), "");
  EXPECT_EXIT(
      {
        util::install_stop_handlers();
        util::StopScope scope;
        std::raise(SIGTERM);
        std::raise(SIGTERM);
        std::_Exit(0);
      },
      ::testing::KilledBySignal(SIGTERM), "");
}

// A tiny model and 40 candidates in blocks of 2: 20 blocks.
struct StopFixture {
  TempDir dir;
  std::string model = dir.file("model");
  std::string tokenizer = dir.write("tokenizer.json", ntks::testing::byte_tokenizer_json());
  std::string candidates;
  StopFixture() {
    auto r = run_command(fmt::format("{} make-model --arch llama --out {} --vocab 272 --hidden 32 --intermediate 48 "
                                     "--layers 2 --heads 4 --kv-heads 2 --seed 5 2>&1",
                                     NTKS_BINARY, model));
    EXPECT_EQ(r.status, 0) << r.output;
    std::string c;
    for (int i = 0; i < 40; ++i)
      c += fmt::format("{{\"instruction\": \"step {}{}\", \"output\": \"result {}\", \"id\": \"s{}\"}}\n", i,
                       std::string(static_cast<size_t>(i % 7), '?'), i, i);
    candidates = dir.write("candidates.jsonl", c);
  }
  std::string embed(const std::string& run, const std::string& env = "", const std::string& launcher = "") const {
    return fmt::format(
        "{} {} {} embed --which candidates --adapter none --set model.path={} --set model.tokenizer={} "
        "--set model.dtype=fp32 --set data.domain={} --set data.candidates=[{}] --set store.block_rows=2 "
        "--set embed.batch_tokens=64 --set run.dir={} 2>&1",
        env, launcher, NTKS_BINARY, model, tokenizer, candidates, candidates, dir.file(run));
  }
  std::vector<float> rows(const std::string& run) const {
    features::FeatureSet set(dir.file(run + "/embed/candidates.json"));
    std::vector<float> v(static_cast<size_t>(set.rows() * set.dim()));
    set.read_rows(0, set.rows(), v.data());
    EXPECT_EQ(set.rows(), 40);
    return v;
  }
};

TEST(StopSignalCli, EmbedStopsAtABlockBoundaryAndResumes) {
  StopFixture f;
  auto full = run_command(f.embed("full"));
  ASSERT_EQ(full.status, 0) << full.output;
  auto stopped = run_command(f.embed("stopped", "NTKS_TEST_TERM_AFTER_BLOCKS=3"));
  EXPECT_EQ(stopped.status, util::kStopExitCode) << stopped.output;
  EXPECT_NE(stopped.output.find("stopped by a signal after committing"), std::string::npos) << stopped.output;
  const std::string shard = f.dir.file("stopped/embed/candidates-00000-of-00001.h5");
  EXPECT_FALSE(std::filesystem::exists(shard));
  ASSERT_TRUE(std::filesystem::exists(shard + ".partial"));
  EXPECT_FALSE(std::filesystem::exists(f.dir.file("stopped/embed/candidates.json")));
  auto resumed = run_command(f.embed("stopped"));
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  // 3 blocks of 2 rows were committed before the stop, and kept.
  EXPECT_NE(resumed.output.find("resuming after 6 rows"), std::string::npos) << resumed.output;
  EXPECT_EQ(f.rows("full"), f.rows("stopped"));
}

// Groups smaller than a block (store.group_rows 2 of store.block_rows 8): a
// stop requested within a block commits the groups done so far (3 groups, 6
// rows), and the rerun continues from the next group with the same rows.
TEST(StopSignalCli, EmbedStopsAfterTheGroupInHandWithinABlock) {
  StopFixture f;
  const std::string groups = "--set store.block_rows=8 --set store.group_rows=2";
  auto full = run_command(f.embed("full") + " " + groups);
  ASSERT_EQ(full.status, 0) << full.output;
  auto stopped = run_command(f.embed("stopped", "NTKS_TEST_TERM_AFTER_BLOCKS=3") + " " + groups);
  EXPECT_EQ(stopped.status, util::kStopExitCode) << stopped.output;
  EXPECT_NE(stopped.output.find("stopped by a signal after committing 6 rows"), std::string::npos) << stopped.output;
  auto resumed = run_command(f.embed("stopped") + " " + groups);
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resuming after 6 rows"), std::string::npos) << resumed.output;
  EXPECT_EQ(f.rows("full"), f.rows("stopped"));
}

// Under MPI only rank 1 gets the signal while the others work on (or wait in
// the barrier after their shard): the job still ends, with status 75 and no
// hang, and a rerun on the same ranks completes the same rows.
TEST(StopSignalCli, OneRankStoppedUnderMpiEndsTheJobAndResumes) {
  StopFixture f;
  auto full = run_command(f.embed("full"));
  ASSERT_EQ(full.status, 0) << full.output;
  const std::string mpirun = "timeout 120 mpirun --oversubscribe -np 3";
  auto stopped = run_command(f.embed("stopped", "NTKS_TEST_TERM_AFTER_BLOCKS=2:1", mpirun));
  EXPECT_EQ(stopped.status, util::kStopExitCode) << stopped.output;
  EXPECT_TRUE(std::filesystem::exists(f.dir.file("stopped/embed/candidates-00001-of-00003.h5.partial")));
  auto resumed = run_command(f.embed("stopped", "", mpirun));
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resuming after"), std::string::npos) << resumed.output;
  EXPECT_EQ(f.rows("full"), f.rows("stopped"));
}

}  // namespace
