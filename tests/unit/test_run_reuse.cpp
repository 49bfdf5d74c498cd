// `ntk-select run --reuse PREV` on a grown corpus (issue 7, cluster/cron):
// only the samples whose content is new are computed — the manifests count
// computed and reused rows — and the selection equals a from-scratch run on
// the grown corpus. Rows made another way (another projection) are not reused.
// `run` after the shards of an array job keeps them.

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "ntks/util/strings.h"
#include "run_fixture.h"

namespace {

using namespace ntks;
using namespace ntks::testing::run;
namespace fs = std::filesystem;

nlohmann::json counts(const std::string& run, const std::string& stage) {
  return nlohmann::json::parse(read_file(run + "/" + stage + "/manifest.json"))["counts"];
}

std::set<std::string> line_set(const std::string& path) {
  std::set<std::string> out;
  for (const std::string& l : split(read_file(path), '\n'))
    if (!l.empty()) out.insert(l);
  return out;
}

// Ten candidates with new content, appended to the corpus file.
void grow_corpus(const RunFixture& f) {
  std::string more;
  for (int i = 30; i < 40; ++i)
    more += fmt::format("{{\"instruction\": \"new q{} mg dose\", \"output\": \"{} mg\", \"id\": \"c{}\"}}\n", i, i, i);
  std::ofstream(f.dir.file("candidates.jsonl"), std::ios::app) << more;
}

TEST(RunReuse, AGrownCorpusComputesOnlyTheNewSamplesAndSelectsAsAFreshRun) {
  RunFixture f;
  auto a = f.ntks("a", "run");
  ASSERT_EQ(a.status, 0) << a.output;
  EXPECT_EQ(counts(f.run_dir("a"), "embed")["computed"], 36);  // 30 candidates + 6 domain samples
  EXPECT_EQ(counts(f.run_dir("a"), "embed")["reused"], 0);
  grow_corpus(f);

  auto b = f.ntks("b", "run --reuse " + f.run_dir("a"));
  ASSERT_EQ(b.status, 0) << b.output;
  EXPECT_NE(b.output.find("warmup: up to date, skipped"), std::string::npos) << b.output;
  EXPECT_NE(b.output.find("embed: running (no manifest"), std::string::npos) << b.output;  // a new folder
  const auto embed = counts(f.run_dir("b"), "embed");
  EXPECT_EQ(embed["candidates"], 40);
  EXPECT_EQ(embed["computed"], 10) << embed.dump();
  EXPECT_EQ(embed["reused"], 36) << embed.dump();
  EXPECT_NE(b.output.find("computed 10, reused 36"), std::string::npos) << b.output;  // the summary says it too
  // grads: the domain set and the candidates pre-selected before are copied.
  const auto pre_a = line_set(f.run_dir("a") + "/preselect/preselected_ids.txt");
  const auto pre_b = line_set(f.run_dir("b") + "/preselect/preselected_ids.txt");
  const auto kept = static_cast<int64_t>(std::count_if(pre_b.begin(), pre_b.end(),
                                                       [&](const std::string& id) { return pre_a.count(id) > 0; }));
  const auto grads = counts(f.run_dir("b"), "grads");
  EXPECT_EQ(grads["computed"], static_cast<int64_t>(pre_b.size()) - kept) << grads.dump();
  EXPECT_EQ(grads["reused"], 6 + kept) << grads.dump();
  EXPECT_LT(kept, static_cast<int64_t>(pre_b.size())) << "the test wants some new candidates pre-selected";
  // The earlier run is only read.
  EXPECT_EQ(counts(f.run_dir("a"), "embed")["candidates"], 30);

  auto c = f.ntks("c", "run");
  ASSERT_EQ(c.status, 0) << c.output;
  EXPECT_EQ(counts(f.run_dir("c"), "embed")["reused"], 0);
  const Selection fresh = selection(f.run_dir("c")), reused = selection(f.run_dir("b"));
  EXPECT_EQ(reused.ids, fresh.ids);
  EXPECT_EQ(reused.jsonl, fresh.jsonl);
  EXPECT_EQ(reused.mixture, fresh.mixture);
  ASSERT_EQ(reused.scores.ids, fresh.scores.ids);
  // Copied rows were batched with other samples than in the fresh run:
  // equal up to float32 rounding.
  for (size_t i = 0; i < fresh.scores.scores.size(); ++i)
    EXPECT_NEAR(reused.scores.scores[i], fresh.scores.scores[i], 1e-4 * (1 + std::abs(fresh.scores.scores[i]))) << i;
}

TEST(RunReuse, RowsMadeAnotherWayAreNotReusedAndTheRunFolderCannotReuseItself) {
  RunFixture f(/*other=*/true);
  auto a = f.ntks("a", "run");
  ASSERT_EQ(a.status, 0) << a.output;
  // Another projection seed: embeddings are reused, gradients are not.
  auto b = f.ntks("b", "run --set grads.seed=99 --reuse " + f.run_dir("a"));
  ASSERT_EQ(b.status, 0) << b.output;
  EXPECT_EQ(counts(f.run_dir("b"), "embed")["computed"], 0);
  EXPECT_EQ(counts(f.run_dir("b"), "grads")["reused"], 0);
  EXPECT_NE(b.output.find("not used: made with another model, adapter, template or stage settings"),
            std::string::npos)
      << b.output;

  auto self = f.ntks("a", "run --reuse " + f.run_dir("a"));
  EXPECT_NE(self.status, 0);
  EXPECT_NE(self.output.find("that is this run's own folder"), std::string::npos) << self.output;
  auto missing = f.ntks("d", "run --reuse " + f.run_dir("nowhere"));
  EXPECT_NE(missing.status, 0);
  EXPECT_NE(missing.output.find("no such folder"), std::string::npos) << missing.output;

  // Other weights at the same path with the same config.json (a model
  // replaced in place): nothing is reused, and the warm-up runs again.
  for (const auto& e : fs::directory_iterator(f.other_model))
    if (e.path().extension() == ".safetensors")
      fs::copy_file(e.path(), fs::path(f.model) / e.path().filename(), fs::copy_options::overwrite_existing);
  auto replaced = f.ntks("e", "run --reuse " + f.run_dir("a"));
  ASSERT_EQ(replaced.status, 0) << replaced.output;
  EXPECT_NE(replaced.output.find("warmup: running (input"), std::string::npos) << replaced.output;
  EXPECT_EQ(counts(f.run_dir("e"), "embed")["reused"], 0);
  EXPECT_EQ(counts(f.run_dir("e"), "grads")["reused"], 0);
}

TEST(RunReuse, RunAfterArrayTaskShardsKeepsThemAndSelectsAsAPlainRun) {
  RunFixture f;
  for (const std::string args : {"run --to warmup", "embed --which domain", "embed --which candidates --shard 1 --num-shards 2",
                                 "embed --which candidates --shard 0 --num-shards 2"}) {
    auto r = f.ntks("a", args);
    ASSERT_EQ(r.status, 0) << args << "\n" << r.output;
  }
  EXPECT_TRUE(fs::exists(f.run_dir("a") + "/embed/candidates.json"));
  EXPECT_FALSE(fs::exists(f.run_dir("a") + "/embed/manifest.json"));  // array tasks write none
  auto run = f.ntks("a", "run");
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("warmup: up to date, skipped"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("candidates.json: every shard complete with the same inputs, kept"), std::string::npos)
      << run.output;
  EXPECT_EQ(run.output.find("embed candidates done"), std::string::npos) << "embedded again:\n" << run.output;
  EXPECT_EQ(counts(f.run_dir("a"), "embed")["candidates"], 30);
  auto plain = f.ntks("b", "run");
  ASSERT_EQ(plain.status, 0) << plain.output;
  expect_same(selection(f.run_dir("a")), selection(f.run_dir("b")));
}

}  // namespace
