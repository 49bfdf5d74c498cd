// `ntk-select grads` through the real binary: the same rows on 1 and 3
// ranks, projected rows equal to the unprojected gradient times P/√d, the
// domain mean equal to the mean of the domain rows, an id list selecting
// rows of the full run, and a killed run resuming to the same file.

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>

#include "byte_tokenizer.h"
#include "ntks/features/feature_set.h"
#include "ntks/features/projector.h"
#include "ntks/select/preselected.h"
#include "ntks/store/feature_file.h"
#include "ntks/util/files.h"
#include "test_util.h"

namespace {

using namespace ntks;
using ntks::testing::run_command;
using ntks::testing::TempDir;

struct GradsFixture {
  TempDir dir;
  std::string model = dir.file("model"), adapter = dir.file("adapter");
  std::string tokenizer = dir.write("tokenizer.json", ntks::testing::byte_tokenizer_json());
  std::string domain, candidates;
  GradsFixture() {
    auto r = run_command(fmt::format("{} make-model --arch qwen3 --out {} --vocab 272 --hidden 32 --intermediate 48 "
                                     "--layers 2 --heads 4 --kv-heads 2 --head-dim 8 --seed 5 --lora-out {} "
                                     "--lora-r 4 2>&1",
                                     NTKS_BINARY, model, adapter));
    EXPECT_EQ(r.status, 0) << r.output;
    std::string d, c;
    for (int i = 0; i < 5; ++i) d += fmt::format("{{\"prompt\": \"dose {}\", \"response\": \"{} mg\"}}\n", i, 10 * i + 5);
    for (int i = 0; i < 23; ++i)
      c += fmt::format("{{\"instruction\": \"q{}{}\", \"output\": \"a{}\", \"id\": \"c{}\"}}\n", i,
                       std::string(static_cast<size_t>(i % 5), '?'), i, i);
    domain = dir.write("domain.jsonl", d);
    candidates = dir.write("candidates.jsonl", c);
  }
  std::string command(const std::string& run_dir, const std::string& extra, const std::string& launcher = "") const {
    return fmt::format(
        "{} {} grads --adapter {} --set model.path={} --set model.tokenizer={} --set model.dtype=fp32 "
        "--set data.domain={} --set data.candidates=[{}] --set store.block_rows=4 --set grads.batch_size=3 "
        "--set grads.dim=64 --set run.dir={} {} 2>&1",
        launcher, NTKS_BINARY, adapter, model, tokenizer, domain, candidates, run_dir, extra);
  }
};

struct GradRows {
  int64_t dim = 0;
  std::vector<float> values;
  std::vector<std::string> ids;
};

GradRows read_file_rows(const store::FeatureReader& r) {
  GradRows out{r.dim(), std::vector<float>(static_cast<size_t>(r.rows() * r.dim())), r.ids(0, r.rows())};
  if (r.rows()) r.read_rows(0, r.rows(), out.values.data());
  return out;
}

GradRows read_grad_rows(const std::string& index) {
  features::FeatureSet set(index);
  GradRows out{set.dim(), std::vector<float>(static_cast<size_t>(set.rows() * set.dim())), set.ids(0, set.rows())};
  set.read_rows(0, set.rows(), out.values.data());
  return out;
}

TEST(GradsCli, SameRowsOnOneAndThreeRanksAndMeanOfDomain) {
  GradsFixture f;
  auto one = run_command(f.command(f.dir.file("r1"), ""));
  ASSERT_EQ(one.status, 0) << one.output;
  auto three = run_command(f.command(f.dir.file("r3"), "", "mpirun --oversubscribe -np 3"));
  ASSERT_EQ(three.status, 0) << three.output;
  const GradRows a = read_grad_rows(f.dir.file("r1/grads/candidates.json")), b = read_grad_rows(f.dir.file("r3/grads/candidates.json"));
  EXPECT_EQ(a.ids.size(), 23u);
  EXPECT_EQ(a.ids, b.ids);
  EXPECT_EQ(a.values, b.values);
  // the domain mean is the mean of the domain rows, the same on both rank counts
  const GradRows dom = read_file_rows(store::FeatureReader(f.dir.file("r1/grads/domain.h5")));
  const GradRows m1 = read_file_rows(store::FeatureReader(f.dir.file("r1/grads/domain_mean.h5")));
  const GradRows m3 = read_file_rows(store::FeatureReader(f.dir.file("r3/grads/domain_mean.h5")));
  ASSERT_EQ(dom.ids.size(), 5u);
  for (int64_t j = 0; j < dom.dim; ++j) {
    double sum = 0;
    for (int64_t i = 0; i < 5; ++i) sum += dom.values[static_cast<size_t>(i * dom.dim + j)];
    EXPECT_NEAR(m1.values[static_cast<size_t>(j)], sum / 5, 1e-6 * (1 + std::abs(sum)));
  }
  EXPECT_EQ(m1.values, m3.values);
  float norm = 0;
  for (float v : m1.values) norm += v * v;
  EXPECT_GT(norm, 0.0f);  // a random adapter with nonzero B: real gradients
}

// A domain set and a candidate list each smaller than one block (5 and 23
// records, store.block_rows 32) in groups of 2: on 3 ranks every rank
// computes a share of both, and the rows are those of 1 rank. A run killed
// after its first block (16 rows) resumes from the group after it to the same
// rows.
TEST(GradsCli, GroupsSmallerThanABlockKeepEveryRankBusyWithTheSameRows) {
  GradsFixture f;
  const std::string groups = "--set store.block_rows=32 --set store.group_rows=2";
  auto one = run_command(f.command(f.dir.file("g1"), groups));
  ASSERT_EQ(one.status, 0) << one.output;
  auto three = run_command(f.command(f.dir.file("g3"), groups, "mpirun --oversubscribe -np 3"));
  ASSERT_EQ(three.status, 0) << three.output;
  for (int r = 0; r < 3; ++r) {
    EXPECT_GT(store::FeatureReader(f.dir.file(fmt::format("g3/grads/candidates-{:05d}-of-00003.h5", r))).rows(), 4)
        << "rank " << r << " computed too few candidates";
    // The part files are removed once joined; their rows are in the log.
    const std::regex part(fmt::format("domain-{:05d}-of-00003\\.h5: ([0-9]+) rows", r));
    std::smatch m;
    ASSERT_TRUE(std::regex_search(three.output, m, part)) << three.output;
    EXPECT_GT(std::stoi(m[1]), 0) << "rank " << r << " computed no domain sample";
  }
  const GradRows a = read_grad_rows(f.dir.file("g1/grads/candidates.json")), b = read_grad_rows(f.dir.file("g3/grads/candidates.json"));
  EXPECT_EQ(a.ids.size(), 23u);
  EXPECT_EQ(a.ids, b.ids);
  EXPECT_EQ(a.values, b.values);
  EXPECT_EQ(read_file_rows(store::FeatureReader(f.dir.file("g1/grads/domain.h5"))).values,
            read_file_rows(store::FeatureReader(f.dir.file("g3/grads/domain.h5"))).values);

  const std::string blocks16 = "--which candidates --set store.block_rows=16 --set store.group_rows=2";
  auto killed = run_command("NTKS_TEST_KILL_AFTER_BLOCKS=1 " + f.command(f.dir.file("k"), blocks16));
  ASSERT_NE(killed.status, 0) << killed.output;
  auto resumed = run_command(f.command(f.dir.file("k"), blocks16));
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resuming after 16 rows (16 of 23 records done)"), std::string::npos)
      << resumed.output;
  EXPECT_EQ(read_grad_rows(f.dir.file("k/grads/candidates.json")).values, a.values);
}

// Both kinds of grads.projection: rows equal to the unprojected gradient
// times that kind's P/√d; the sparse kind's rows the same on 3 ranks.
TEST(GradsCli, ProjectedRowsAreTheUnprojectedGradientTimesP) {
  GradsFixture f;
  auto raw = run_command(f.command(f.dir.file("u"), "--which candidates --set grads.dim=0"));
  ASSERT_EQ(raw.status, 0) << raw.output;
  const GradRows u = read_grad_rows(f.dir.file("u/grads/candidates.json"));
  const auto n = static_cast<int64_t>(u.ids.size());
  const at::Tensor g = at::from_blob(const_cast<float*>(u.values.data()), {n, u.dim}, at::kFloat).clone();
  const std::string sparse = "--set grads.projection=sparse --set grads.sparsity=8";
  for (const std::string& kind : {std::string("rademacher"), std::string("sparse")}) {
    SCOPED_TRACE(kind);
    auto proj = run_command(f.command(f.dir.file(kind), "--which candidates " + (kind == "sparse" ? sparse : "")));
    ASSERT_EQ(proj.status, 0) << proj.output;
    const GradRows p = read_grad_rows(f.dir.file(kind + "/grads/candidates.json"));
    ASSERT_EQ(p.dim, 64);
    at::Tensor out = at::zeros({n, 64}, at::kFloat);
    // grads.seed defaults to 42
    (kind == "sparse" ? features::Projector::sparse(42, 64, 8) : features::Projector(42, 64)).accumulate(g, 0, out);
    const at::Tensor got = at::from_blob(const_cast<float*>(p.values.data()), {n, 64}, at::kFloat);
    // Module-by-module projection and one product over the whole vector sum in
    // different orders: compare against the row norms, per row.
    const at::Tensor err = (got - out).norm(2, {1}) / out.norm(2, {1});
    EXPECT_LT(err.max().item<float>(), 1e-5) << err;
  }
  auto three = run_command(f.command(f.dir.file("s3"), "--which candidates " + sparse, "mpirun --oversubscribe -np 3"));
  ASSERT_EQ(three.status, 0) << three.output;
  EXPECT_EQ(read_grad_rows(f.dir.file("s3/grads/candidates.json")).values,
            read_grad_rows(f.dir.file("sparse/grads/candidates.json")).values);
}

TEST(GradsCli, IdListSelectsRowsAndAKilledRunResumes) {
  GradsFixture f;
  auto full = run_command(f.command(f.dir.file("full"), "--which candidates"));
  ASSERT_EQ(full.status, 0) << full.output;
  const std::string ids = f.dir.write("ids.txt", "c17\nc3\n" + f.candidates + ":9\nc20\nc11\nc1\n");
  auto killed = run_command("NTKS_TEST_KILL_AFTER_BLOCKS=1 " +
                            f.command(f.dir.file("some"), "--which candidates --ids-file " + ids));
  ASSERT_NE(killed.status, 0) << killed.output;
  auto resumed = run_command(f.command(f.dir.file("some"), "--which candidates --ids-file " + ids));
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resuming after"), std::string::npos) << resumed.output;
  const GradRows all = read_grad_rows(f.dir.file("full/grads/candidates.json"));
  const GradRows some = read_grad_rows(f.dir.file("some/grads/candidates.json"));
  ASSERT_EQ(some.ids, (std::vector<std::string>{"c1", "c3", "c8", "c11", "c17", "c20"}));  // record order
  for (size_t k = 0; k < some.ids.size(); ++k) {
    const size_t i = static_cast<size_t>(std::find(all.ids.begin(), all.ids.end(), some.ids[k]) - all.ids.begin());
    for (int64_t j = 0; j < all.dim; ++j)
      EXPECT_NEAR(some.values[k * 64 + static_cast<size_t>(j)], all.values[i * 64 + static_cast<size_t>(j)],
                  1e-4 * (1 + std::abs(all.values[i * 64 + static_cast<size_t>(j)])))
          << some.ids[k];
  }
  const std::string bad = f.dir.write("bad.txt", "c1\nnope\n");
  auto r = run_command(f.command(f.dir.file("bad"), "--which candidates --ids-file " + bad));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find(bad + ":2: no candidate has the id 'nope'"), std::string::npos) << r.output;
}

// --preselected takes the candidates of a pre-selection file (best first in
// the file, rows in record order), equal to the same rows of a full run; its
// content is fingerprinted in the metadata; a file whose ids no longer match
// the corpus, and --ids-file alongside it, are refused.
TEST(GradsCli, PreselectedFileSelectsRows) {
  GradsFixture f;
  auto full = run_command(f.command(f.dir.file("full"), "--which candidates"));
  ASSERT_EQ(full.status, 0) << full.output;
  select::Preselected p;
  p.records = {17, 3, 9, 20};
  p.ids = {"c17", "c3", "c9", "c20"};
  p.counts = {4, 3, 2, 1};
  p.mean_distance = {0.5, 0.6, 0.7, 0.8};
  const std::string file = f.dir.file("preselected.h5");
  select::write_preselected(file, p);
  auto r = run_command(f.command(f.dir.file("pre"), "--which candidates --preselected " + file + " --log-level info"));
  ASSERT_EQ(r.status, 0) << r.output;
  const GradRows all = read_grad_rows(f.dir.file("full/grads/candidates.json"));
  const GradRows some = read_grad_rows(f.dir.file("pre/grads/candidates.json"));
  ASSERT_EQ(some.ids, (std::vector<std::string>{"c3", "c9", "c17", "c20"}));
  for (size_t k = 0; k < some.ids.size(); ++k) {
    const size_t i = static_cast<size_t>(std::find(all.ids.begin(), all.ids.end(), some.ids[k]) - all.ids.begin());
    for (int64_t j = 0; j < all.dim; ++j)
      EXPECT_NEAR(some.values[k * 64 + static_cast<size_t>(j)], all.values[i * 64 + static_cast<size_t>(j)],
                  1e-4 * (1 + std::abs(all.values[i * 64 + static_cast<size_t>(j)])))
          << some.ids[k];
  }
  const auto metadata = nlohmann::json::parse(
      store::FeatureReader(f.dir.file("pre/grads/candidates-00000-of-00001.h5")).metadata_json());
  EXPECT_EQ(metadata["stage"]["preselected"]["path"], std::filesystem::absolute(file).string());
  EXPECT_EQ(metadata["stage"]["preselected"]["records"], 4);
  const std::string hash = metadata["stage"]["preselected"]["records_xxh3"];
  // Other records under the same path: another fingerprint, so the complete
  // file is computed again rather than kept.
  p.records = {17, 3, 9, 21};
  p.ids = {"c17", "c3", "c9", "c21"};
  select::write_preselected(file, p);
  r = run_command(f.command(f.dir.file("pre"), "--which candidates --preselected " + file));
  ASSERT_EQ(r.status, 0) << r.output;
  const auto again = nlohmann::json::parse(
      store::FeatureReader(f.dir.file("pre/grads/candidates-00000-of-00001.h5")).metadata_json());
  EXPECT_NE(again["stage"]["preselected"]["records_xxh3"], hash);
  EXPECT_EQ(read_grad_rows(f.dir.file("pre/grads/candidates.json")).ids,
            (std::vector<std::string>{"c3", "c9", "c17", "c21"}));

  p.ids[1] = "c4";  // record 3 is c3 in the corpus
  select::write_preselected(file, p);
  r = run_command(f.command(f.dir.file("bad"), "--which candidates --preselected " + file));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find(file + ": records[1] = 3 is 'c3' in the candidates"), std::string::npos) << r.output;
  const std::string ids = f.dir.write("ids.txt", "c1\n");
  r = run_command(f.command(f.dir.file("bad"), "--which candidates --preselected " + file + " --ids-file " + ids));
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("--ids-file and --preselected"), std::string::npos) << r.output;
}

}  // namespace
