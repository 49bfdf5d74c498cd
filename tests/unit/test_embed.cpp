// Embeddings: the masked mean is independent of padding and batch; the
// `embed` command gives the same rows on 1 and 3 ranks, and a run killed
// mid-shard resumes to the same file as an uninterrupted one.

#include <gtest/gtest.h>

#include <filesystem>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "byte_tokenizer.h"
#include "model_fixture.h"
#include "ntks/features/batching.h"
#include "ntks/features/embed.h"
#include "ntks/features/feature_job.h"
#include "ntks/features/feature_set.h"
#include "ntks/store/feature_file.h"
#include "ntks/util/files.h"
#include "test_util.h"

namespace {

using namespace ntks;
using ntks::testing::run_command;
using ntks::testing::TempDir;

data::Sample sample(std::vector<int32_t> ids) {
  data::Sample s;
  s.response_mask.assign(ids.size(), 1);
  s.ids = std::move(ids);
  return s;
}

TEST(Batching, BudgetSortedLengthsAndCover) {
  const std::vector<int64_t> lengths = {5, 40, 7, 40, 1, 12, 100};
  const auto batches = features::batches_by_tokens(lengths, 80);
  std::vector<int> seen(lengths.size(), 0);
  for (const auto& b : batches) {
    int64_t longest = 0;
    for (size_t p : b) {
      longest = std::max(longest, lengths[p]);
      ++seen[p];
    }
    EXPECT_TRUE(std::is_sorted(b.begin(), b.end()));
    EXPECT_TRUE(static_cast<int64_t>(b.size()) * longest <= 80 || b.size() == 1);
  }
  EXPECT_EQ(seen, std::vector<int>(lengths.size(), 1));
  EXPECT_EQ(batches.front(), std::vector<size_t>{6});          // over the budget: alone
  EXPECT_EQ(batches[1], (std::vector<size_t>{1, 3}));          // 2 x 40 = 80
  EXPECT_EQ(features::batches_by_tokens(lengths, 1000, 2).size(), 4u);  // row limit
}

// The padding limit: a batch starts anew before its padding would pass the
// given share of its padded tokens.
TEST(Batching, PaddingLimitStartsANewBatch) {
  const std::vector<int64_t> lengths = {100, 90, 80, 75, 40, 38, 10};
  // No limit: one batch. A quarter: 100, 90, 80, 75 pad 55 of 400 (14%); 40
  // would pad 115 of 500 (23%), 38 then 177 of 600 (30%): a new batch.
  EXPECT_EQ(features::batches_by_tokens(lengths, 10000).size(), 1u);
  const auto b = features::batches_by_tokens(lengths, 10000, 0, 0.25);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0], (std::vector<size_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(b[1], (std::vector<size_t>{5}));  // 38 with 10 would pad 28 of 76
  EXPECT_EQ(b[2], (std::vector<size_t>{6}));
  for (const auto& batch : features::batches_by_tokens(lengths, 10000, 0, 0)) EXPECT_EQ(batch.size(), 1u);
  EXPECT_THROW(features::batches_by_tokens(lengths, 10000, 0, 1.5), std::exception);
}

TEST(Embed, MeanIgnoresPaddingAndBatchComposition) {
  TempDir dir;
  const auto dec = model::Decoder::load(ntks::testing::tiny_checkpoint(dir, "m"), at::kFloat, at::kCPU);
  const std::vector<data::Sample> samples = {sample({1, 2, 3}), sample({4, 5, 6, 7, 8, 9, 10}), sample({11}),
                                             sample({12, 13, 14, 15})};
  const at::Tensor together = features::embed_samples(dec, samples, 1000);
  for (size_t i = 0; i < samples.size(); ++i) {
    const at::Tensor alone = features::embed_samples(dec, {samples[i]}, 1000);
    EXPECT_TRUE(torch::allclose(together[static_cast<int64_t>(i)], alone[0], 1e-5, 1e-6)) << i;
    // and the mean by hand
    const at::Tensor ids = at::tensor(std::vector<int64_t>(samples[i].ids.begin(), samples[i].ids.end())).unsqueeze(0);
    const at::Tensor h = dec.hidden_states(ids, at::ones_like(ids)).squeeze(0).mean(0);
    EXPECT_TRUE(torch::allclose(alone[0], h, 1e-5, 1e-6)) << i;
  }
  // a budget that splits the batch gives the same rows
  EXPECT_TRUE(torch::allclose(together, features::embed_samples(dec, samples, 7), 1e-5, 1e-6));
}

// The automatic group size: whole blocks for long lists, halved for short
// ones until they have kGroupsPerList groups or the floor is reached; always
// a divisor of block_rows; a configured size is taken as it is.
TEST(Embed, BatchTokensAutoIsSizedForTheDevice) {
  EXPECT_EQ(ntks::features::embed_batch_tokens(0, at::kCPU), 4096);
  EXPECT_EQ(ntks::features::embed_batch_tokens(0, at::Device(at::kCUDA, 0)), 16384);
  EXPECT_EQ(ntks::features::embed_batch_tokens(777, at::kCPU), 777);
  EXPECT_EQ(ntks::features::embed_batch_tokens(777, at::Device(at::kCUDA, 0)), 777);
}

TEST(Embed, GroupRowsCutShortListsFinerAndAlwaysDivideTheBlock) {
  using features::group_rows;
  EXPECT_EQ(group_rows(1'800'000, 1024, 8, 0), 1024);  // the paper's pool: whole blocks
  EXPECT_EQ(group_rows(100'000, 1024, 1, 0), 512);      // 98 blocks: halved once to 196 groups
  EXPECT_EQ(group_rows(5000, 1024, 1, 0), 32);          // the demo pool: down to the floor
  EXPECT_EQ(group_rows(200, 1024, 8, 0), 16);
  EXPECT_EQ(group_rows(200, 1024, 64, 0), 64);          // a larger batch raises the floor
  EXPECT_EQ(group_rows(200, 1000, 1, 0), 125);          // 1000 halves to 125, which is odd
  EXPECT_EQ(group_rows(200, 4, 1, 0), 4);               // blocks below the floor stay whole
  EXPECT_EQ(group_rows(0, 1024, 1, 0), 16);
  EXPECT_EQ(group_rows(5000, 1024, 1, 2), 2);
  EXPECT_THROW(group_rows(5000, 1024, 1, 3), std::exception);
  for (int64_t n : {1, 31, 400, 4095, 70'000, 3'000'000})
    for (int64_t block : {1, 6, 96, 1000, 1024, 4096}) {
      const int64_t g = group_rows(n, block, 8, 0);
      EXPECT_EQ(block % g, 0) << n << " " << block;
      EXPECT_TRUE(g == block || (n + g - 1) / g <= 2 * features::kGroupsPerList) << n << " " << block;
    }
}

TEST(Embed, GroupAlignedShardsCoverWholeGroups) {
  int64_t covered = 0;
  for (int s = 0; s < 3; ++s) {
    const data::Range r = features::group_aligned_shard(23, 4, s, 3);
    EXPECT_EQ(r.begin, covered);
    EXPECT_TRUE(r.begin % 4 == 0);
    covered = r.end;
  }
  EXPECT_EQ(covered, 23);
  EXPECT_EQ(features::group_aligned_shard(3, 4, 2, 3).size(), 0);
}

// Shards balanced by weight: a list whose first records are 100x heavier.
// Every shard count gives whole groups covering the list once, in order, and
// each shard's weight is within one group's weight of the mean; the heavy
// head makes the record counts differ.
TEST(Embed, GroupAlignedShardsBalanceWeight) {
  const int64_t n = 203, rows = 4;
  std::vector<int64_t> weight(static_cast<size_t>(n), 10);
  for (int64_t p = 0; p < 30; p += 3) weight[static_cast<size_t>(p)] = 1000;
  const auto w = [&](int64_t p) { return weight[static_cast<size_t>(p)]; };
  int64_t total = 0, max_block = 0;
  for (int64_t b = 0; b < n; b += rows) {
    int64_t block = 0;
    for (int64_t p = b; p < std::min(n, b + rows); ++p) block += weight[static_cast<size_t>(p)];
    total += block;
    max_block = std::max(max_block, block);
  }
  for (int k = 1; k <= 7; ++k) {
    int64_t covered = 0;
    std::vector<int64_t> sizes;
    for (int s = 0; s < k; ++s) {
      const data::Range r = features::group_aligned_shard(n, rows, s, k, w);
      EXPECT_EQ(r.begin, covered) << k << " " << s;
      EXPECT_TRUE(r.begin % rows == 0 || r.begin == n) << k << " " << s;
      int64_t mass = 0;
      for (int64_t p = r.begin; p < r.end; ++p) mass += weight[static_cast<size_t>(p)];
      EXPECT_LE(std::abs(mass * k - total), max_block * k) << "shards " << k << ", shard " << s << ": " << mass;
      sizes.push_back(r.size());
      covered = r.end;
    }
    EXPECT_EQ(covered, n) << k;
    if (k >= 2) EXPECT_LT(sizes.front() * 2, sizes.back()) << k;  // the heavy head: fewer records
  }
  // No weight at all: records count one each.
  const auto zero = [](int64_t) { return int64_t{0}; };
  for (int s = 0; s < 3; ++s) {
    const data::Range a = features::group_aligned_shard(23, 4, s, 3, zero);
    const data::Range b = features::group_aligned_shard(23, 4, s, 3);
    EXPECT_EQ(a.begin, b.begin);
    EXPECT_EQ(a.end, b.end);
  }
}

// A tiny llama whose vocabulary covers the byte tokenizer, a domain set and a
// candidate pool with a few bad lines.
struct EmbedFixture {
  TempDir dir;
  std::string model = dir.file("model");
  std::string tokenizer = dir.write("tokenizer.json", ntks::testing::byte_tokenizer_json());
  std::string domain, candidates;
  EmbedFixture() {
    auto r = run_command(fmt::format("{} make-model --arch llama --out {} --vocab 272 --hidden 32 --intermediate 48 "
                                     "--layers 2 --heads 4 --kv-heads 2 --seed 3 2>&1",
                                     NTKS_BINARY, model));
    EXPECT_EQ(r.status, 0) << r.output;
    std::string d, c;
    for (int i = 0; i < 7; ++i) d += fmt::format("{{\"prompt\": \"symptom {}\", \"response\": \"diagnosis {}\"}}\n", i, i * i);
    for (int i = 0; i < 41; ++i) {
      if (i % 13 == 5) {
        c += "not json\n";
      } else {
        c += fmt::format("{{\"instruction\": \"task {}{}\", \"output\": \"answer {}\", \"id\": \"c{}\"}}\n", i,
                         std::string(static_cast<size_t>(i % 9), '!'), i, i);
      }
    }
    domain = dir.write("domain.jsonl", d);
    candidates = dir.write("candidates.jsonl", c);
  }
  std::string command(const std::string& run_dir, const std::string& extra, const std::string& launcher = "") const {
    return fmt::format(
        "{} {} embed --adapter none --set model.path={} --set model.tokenizer={} --set model.dtype=fp32 "
        "--set data.domain={} --set data.candidates=[{}] --set data.on_error=skip --set store.block_rows=4 "
        "--set embed.batch_tokens=64 --set run.dir={} {} 2>&1",
        launcher, NTKS_BINARY, model, tokenizer, domain, candidates, run_dir, extra);
  }
};

struct EmbedRows {
  std::vector<float> values;
  std::vector<std::string> ids;
  std::vector<int64_t> indices;
};

EmbedRows read_embed_rows(const std::string& run_dir) {
  features::FeatureSet set(run_dir + "/embed/candidates.json");
  EmbedRows r;
  r.values.resize(static_cast<size_t>(set.rows() * set.dim()));
  set.read_rows(0, set.rows(), r.values.data());
  r.ids = set.ids(0, set.rows());
  r.indices = set.indices(0, set.rows());
  return r;
}

TEST(EmbedCli, SameRowsOnOneAndThreeRanks) {
  EmbedFixture f;
  auto one = run_command(f.command(f.dir.file("run1"), ""));
  ASSERT_EQ(one.status, 0) << one.output;
  auto three = run_command(f.command(f.dir.file("run3"), "", "mpirun --oversubscribe -np 3"));
  ASSERT_EQ(three.status, 0) << three.output;
  const EmbedRows a = read_embed_rows(f.dir.file("run1")), b = read_embed_rows(f.dir.file("run3"));
  EXPECT_EQ(a.ids.size(), 38u);  // 41 lines, 3 not JSON
  EXPECT_EQ(a.ids, b.ids);
  EXPECT_EQ(a.indices, b.indices);
  ASSERT_EQ(a.values.size(), b.values.size());
  // Block-aligned shards put every sample in the same batch on any rank count.
  EXPECT_EQ(a.values, b.values);
  store::FeatureReader d1(f.dir.file("run1/embed/domain.h5")), d3(f.dir.file("run3/embed/domain.h5"));
  EXPECT_EQ(d1.rows(), 7);
  EXPECT_EQ(d1.ids(0, 7), d3.ids(0, 7));
  std::vector<float> r1(static_cast<size_t>(7 * d1.dim())), r3(r1.size());
  d1.read_rows(0, 7, r1.data());
  d3.read_rows(0, 7, r3.data());
  EXPECT_EQ(r1, r3);
  // A rerun keeps the complete files.
  auto again = run_command(f.command(f.dir.file("run1"), ""));
  ASSERT_EQ(again.status, 0) << again.output;
  EXPECT_NE(again.output.find("complete with the same inputs"), std::string::npos) << again.output;
}

TEST(EmbedCli, KilledRunResumesToTheSameFile) {
  EmbedFixture f;
  auto full = run_command(f.command(f.dir.file("full"), "--which candidates"));
  ASSERT_EQ(full.status, 0) << full.output;
  // Killed after 3 of 11 blocks: a partial file and a partial skip log remain.
  auto killed = run_command("NTKS_TEST_KILL_AFTER_BLOCKS=3 " + f.command(f.dir.file("resumed"), "--which candidates"));
  ASSERT_NE(killed.status, 0) << killed.output;
  const std::string shard = f.dir.file("resumed/embed/candidates-00000-of-00001.h5");
  EXPECT_FALSE(std::filesystem::exists(shard));
  EXPECT_TRUE(std::filesystem::exists(shard + ".partial"));
  auto resumed = run_command(f.command(f.dir.file("resumed"), "--which candidates"));
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resuming after"), std::string::npos) << resumed.output;
  const EmbedRows a = read_embed_rows(f.dir.file("full")), b = read_embed_rows(f.dir.file("resumed"));
  EXPECT_EQ(a.ids, b.ids);
  EXPECT_EQ(a.indices, b.indices);
  EXPECT_EQ(a.values, b.values);
  // The skip log lists each bad line once.
  EXPECT_EQ(ntks::read_file(f.dir.file("full/embed/skipped-candidates-00000-of-00001.jsonl")).size(),
            ntks::read_file(f.dir.file("resumed/embed/skipped-candidates-00000-of-00001.jsonl")).size());
}

TEST(EmbedCli, MissingAdapterIsAClearError) {
  EmbedFixture f;
  std::string cmd = f.command(f.dir.file("run"), "");
  cmd.replace(cmd.find("--adapter none"), 14, "");  // default: RUN/warmup, which does not exist
  auto r = run_command(cmd);
  EXPECT_EQ(r.status, 1) << r.output;
  // Named by the stage's input check (pipeline) or by load_stage, whichever runs first.
  EXPECT_NE(r.output.find(f.dir.file("run") + "/warmup"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("run `ntk-select warmup` first"), std::string::npos) << r.output;
}

}  // namespace
