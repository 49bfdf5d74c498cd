// `ntk-select preselect` end to end on embed outputs written here (integer
// rows full of exact ties and duplicates): the same preselected.h5 on 1, 2 and
// 3 ranks, equal to a numpy brute force, IVF probing every list equal to flat,
// and the errors and warnings of bad inputs and settings.

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "ntks/features/feature_set.h"
#include "ntks/select/preselected.h"
#include "ntks/store/feature_file.h"
#include "ntks/util/files.h"
#include "test_util.h"

using namespace ntks;
using ntks::testing::run_command;
using ntks::testing::TempDir;
using ntks::testing::expect_contains;
namespace fs = std::filesystem;

using ntks::testing::kPython;

namespace {

constexpr std::int64_t kDim = 6;

// What cli/stage_metadata writes, with `corpus` and one changeable field.
std::string embed_metadata(const std::string& corpus, const std::string& adapter = "0123456789abcdef") {
  return nlohmann::json{{"model", "/models/tiny"},  {"model_weights", "00ff00ff00ff00ff"}, {"adapter", adapter},
                        {"dtype", "fp32"},          {"template", "plain"},               {"max_seq_len", 64},
                        {"corpus", {corpus}},       {"stage", {{"name", "embed"}}}}
      .dump();
}

void write_rows(const std::string& path, const std::vector<float>& rows, const std::vector<std::int64_t>& records,
                const std::vector<std::string>& ids, const std::string& metadata) {
  store::FeatureFileSpec spec;
  spec.dim = kDim;
  spec.kind = "embeddings";
  spec.metadata_json = metadata;
  auto w = store::FeatureWriter::create(path, spec);
  const auto n = static_cast<std::int64_t>(records.size());
  std::vector<std::uint64_t> keys(records.begin(), records.end());
  std::vector<std::int64_t> tokens(records.size(), 5);
  w.append(rows.data(), n, keys.data(), ids, records.data(), tokens.data());
  w.finalize();
}

struct Embeddings {
  std::int64_t domain = 40, candidates = 500;
  int shards = 3;
  unsigned seed = 11;
  std::string candidate_adapter = "0123456789abcdef";
  std::string bad_id;  // when set: the id of candidate 7

  // RUN/embed as `ntk-select embed` leaves it: domain.h5, candidate shards of
  // unequal size and candidates.json. Records of candidate i: 3 i + 1.
  void write(const std::string& run) const {
    const std::string dir = run + "/embed";
    fs::create_directories(dir);
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> coord(-2, 2);
    auto rows_of = [&](std::int64_t n) {
      std::vector<float> r(static_cast<std::size_t>(n * kDim));
      for (float& x : r) x = static_cast<float>(coord(rng));
      return r;
    };
    std::vector<float> q = rows_of(domain);
    std::vector<std::int64_t> qrec(static_cast<std::size_t>(domain));
    std::vector<std::string> qids;
    for (std::int64_t i = 0; i < domain; ++i) {
      qrec[i] = i;
      qids.push_back("dom-" + std::to_string(i));
    }
    write_rows(dir + "/domain.h5", q, qrec, qids, embed_metadata("/data/domain.jsonl"));
    std::vector<float> c = rows_of(candidates);
    for (std::int64_t i = 0; i < candidates / 10; ++i)  // duplicates of earlier rows
      std::copy_n(c.begin() + (i * 7 % (candidates / 2)) * kDim, kDim, c.begin() + (candidates / 2 + i * 3) * kDim);
    for (int s = 0; s < shards; ++s) {
      const std::int64_t b = candidates * s * s / (shards * shards), e = candidates * (s + 1) * (s + 1) / (shards * shards);
      std::vector<float> part(c.begin() + b * kDim, c.begin() + e * kDim);
      std::vector<std::int64_t> rec;
      std::vector<std::string> ids;
      for (std::int64_t i = b; i < e; ++i) {
        rec.push_back(3 * i + 1);
        ids.push_back(i == 7 && !bad_id.empty() ? bad_id : fmt::format("cand-{}", 3 * i + 1));
      }
      write_rows(features::shard_file(dir, "candidates", s, shards), part, rec, ids,
                 embed_metadata("/data/corpus.jsonl", candidate_adapter));
    }
    ASSERT_TRUE(features::write_feature_set_index(dir, "candidates", shards));
  }
};

std::string preselect(const std::string& run, const std::string& settings, const std::string& launcher = "") {
  return fmt::format("{} {} preselect --set run.dir={} --set select.size=5 {} 2>&1", launcher, NTKS_BINARY, run,
                     settings);
}

std::string mpirun(int np) { return fmt::format("mpirun --oversubscribe -np {}", np); }

void expect_same_file(const select::Preselected& a, const select::Preselected& b, const std::string& what) {
  EXPECT_EQ(a.records, b.records) << what;
  EXPECT_EQ(a.ids, b.ids) << what;
  EXPECT_EQ(a.counts, b.counts) << what;
  EXPECT_EQ(a.mean_distance, b.mean_distance) << what;
  EXPECT_EQ(a.metadata_json, b.metadata_json) << what;
}

}  // namespace

TEST(PreselectCli, SameFileOnOneTwoAndThreeRanksAndEqualToNumpy) {
  TempDir dir;
  const std::string run = dir.file("run");
  Embeddings{}.write(run);
  const std::string args = "--set preselect.k=12 --set preselect.size=60";
  auto one = run_command(preselect(run, args + " --chunk-rows 37"));
  ASSERT_EQ(one.status, 0) << one.output;
  expect_contains(one.output, "40 domain points, 500 candidates");
  const std::string out = run + "/preselect/preselected.h5";
  const select::Preselected want = select::read_preselected(out);
  ASSERT_EQ(want.records.size(), 60u);
  EXPECT_EQ(read_file(run + "/preselect/preselected_ids.txt").substr(0, want.ids[0].size() + 1), want.ids[0] + "\n");
  for (int np : {2, 3}) {
    auto r = run_command(preselect(run, args + (np == 2 ? "" : " --chunk-rows 50"), mpirun(np)));
    ASSERT_EQ(r.status, 0) << r.output;
    expect_same_file(select::read_preselected(out), want, std::to_string(np) + " ranks");
  }
  if (run_command(kPython + " -c 'import h5py, numpy'").status != 0) GTEST_SKIP() << "no h5py for the reference";
  const std::string script = std::string(NTKS_SOURCE_DIR) + "/tests/scripts/check_preselect_numpy.py";
  auto check = run_command(fmt::format("{} {} {} 12 60", kPython, script, run));
  EXPECT_EQ(check.status, 0) << check.output;
  // The reference can fail: another m.
  auto wrong = run_command(fmt::format("{} {} {} 12 59", kPython, script, run));
  EXPECT_NE(wrong.status, 0) << wrong.output;
}

TEST(PreselectCli, IvfProbingEveryListEqualsFlatAndIvfIsRankIndependent) {
  TempDir dir;
  const std::string run = dir.file("run");
  Embeddings{}.write(run);
  const std::string out = run + "/preselect/preselected.h5";
  const std::string args = "--set preselect.k=9 --set preselect.size=40";
  ASSERT_EQ(run_command(preselect(run, args)).status, 0);
  const select::Preselected flat = select::read_preselected(out);
  auto all = run_command(preselect(run, args + " --set preselect.index=ivf --set preselect.nlist=12 "
                                               "--set preselect.nprobe=12 --chunk-rows 64"));
  ASSERT_EQ(all.status, 0) << all.output;
  const select::Preselected ivf_all = select::read_preselected(out);
  EXPECT_EQ(ivf_all.records, flat.records);
  EXPECT_EQ(ivf_all.counts, flat.counts);
  EXPECT_EQ(ivf_all.mean_distance, flat.mean_distance);
  // Every list probed: the measured recall is 1, on a sample of the domain points.
  const auto all_recall = nlohmann::json::parse(ivf_all.metadata_json)["settings"]["ivf_recall"];
  ASSERT_TRUE(all_recall.is_object()) << ivf_all.metadata_json;
  EXPECT_EQ(all_recall["recall_at_k"].get<double>(), 1.0);
  EXPECT_NE(all.output.find("IVF recall@9: 1.0000 of the exact 9 nearest of"), std::string::npos) << all.output;

  const std::string ivf = args + " --set preselect.index=ivf --set preselect.nprobe=2";  // nlist 0: 4 sqrt(500) = 89
  auto one = run_command(preselect(run, ivf));
  ASSERT_EQ(one.status, 0) << one.output;
  const select::Preselected want = select::read_preselected(out);
  EXPECT_NE(nlohmann::json::parse(want.metadata_json)["settings"]["nlist"], nullptr);
  EXPECT_EQ(nlohmann::json::parse(want.metadata_json)["settings"]["nlist"].get<int>(), 89);
  // 2 of 89 lists probed: some exact neighbours missed, the recall below 1.
  const auto recall = nlohmann::json::parse(want.metadata_json)["settings"]["ivf_recall"];
  EXPECT_LT(recall["recall_at_k"].get<double>(), 1.0);
  EXPECT_GT(recall["recall_at_k"].get<double>(), 0.0);
  auto three = run_command(preselect(run, ivf + " --chunk-rows 70", mpirun(3)));
  ASSERT_EQ(three.status, 0) << three.output;
  const select::Preselected got = select::read_preselected(out);
  expect_same_file(got, want, "IVF on 3 ranks");
  EXPECT_EQ(nlohmann::json::parse(got.metadata_json)["settings"]["ivf_recall"], recall);
  // recall_sample 0: not measured.
  ASSERT_EQ(run_command(preselect(run, ivf + " --set preselect.recall_sample=0")).status, 0);
  EXPECT_FALSE(nlohmann::json::parse(select::read_preselected(out).metadata_json)["settings"].contains("ivf_recall"));
}

TEST(PreselectCli, WarnsAndClamps) {
  TempDir dir;
  const std::string run = dir.file("run");
  Embeddings e;
  e.domain = 4;
  e.candidates = 30;
  e.shards = 2;
  e.write(run);
  // k above the corpus: every candidate, with a warning; 4 x 30 < 200, and only 30 can be kept.
  auto r = run_command(preselect(run, "--set preselect.k=1000 --set preselect.size=200"));
  ASSERT_EQ(r.status, 0) << r.output;
  expect_contains(r.output, "preselect.k = 1000 is larger than the 30 candidates: using k = 30");
  expect_contains(r.output, "4 domain points x k = 30 give at most 120 candidates, fewer than the 200 to keep");
  expect_contains(r.output, "only 30 candidates are among some domain point's 30 nearest, fewer than the 200");
  const select::Preselected p = select::read_preselected(run + "/preselect/preselected.h5");
  EXPECT_EQ(p.records.size(), 30u);
  for (std::int64_t c : p.counts) EXPECT_EQ(c, 4);
}

TEST(PreselectCli, RefusesMissingInputsAndBadSettings) {
  TempDir dir;
  const std::string args = "--set preselect.k=5 --set preselect.size=10";
  // No embed outputs.
  auto missing = run_command(preselect(dir.file("empty"), args));
  EXPECT_NE(missing.status, 0);
  expect_contains(missing.output, "embed/domain.h5");
  expect_contains(missing.output, "ntk-select embed");

  const std::string run = dir.file("run");
  Embeddings{}.write(run);
  auto gpu = run_command(preselect(run, args + " --set preselect.gpu=true"));
  EXPECT_NE(gpu.status, 0);
  expect_contains(gpu.output, "preselect.gpu: true, but this build has no Faiss GPU support");
  auto k0 = run_command(preselect(run, "--set preselect.k=0 --set preselect.size=10"));
  EXPECT_NE(k0.status, 0);
  expect_contains(k0.output, "preselect.k");

}

TEST(PreselectCli, RefusesInputsThatDoNotFit) {
  TempDir dir;
  const std::string args = "--set preselect.k=5 --set preselect.size=10";
  const std::string run = dir.file("run");
  Embeddings{}.write(run);
  // Domain larger than the corpus, reported once and without a hang on 2 ranks.
  const std::string small = dir.file("small");
  Embeddings s;
  s.domain = 50;
  s.candidates = 20;
  s.shards = 1;
  s.write(small);
  auto larger = run_command(preselect(small, args, mpirun(2)));
  EXPECT_NE(larger.status, 0);
  expect_contains(larger.output, "the domain set (50 rows,");
  expect_contains(larger.output, "is larger than the candidate corpus (20 rows,");

  // Candidates embedded with another adapter.
  const std::string other = dir.file("other");
  Embeddings o;
  o.candidate_adapter = "fedcba9876543210";
  o.write(other);
  auto adapter = run_command(preselect(other, args));
  EXPECT_NE(adapter.status, 0);
  expect_contains(adapter.output, other + "/embed/domain.h5 and " + other + "/embed/candidates.json are embeddings "
                                  "from different models, adapters or settings (they differ in: adapter)");

  // An id that cannot be one line of preselected_ids.txt.
  const std::string newline = dir.file("newline");
  Embeddings n;
  n.candidates = 40;
  n.domain = 40;
  n.bad_id = "two\nlines";
  n.write(newline);
  auto id = run_command(preselect(newline, "--set preselect.k=40 --set preselect.size=40"));
  EXPECT_NE(id.status, 0);
  expect_contains(id.output, "the id of record 22 contains a line break");
  EXPECT_FALSE(fs::exists(newline + "/preselect/preselected.h5"));

  // data.candidates other than the corpus the embeddings came from.
  auto corpus = run_command(preselect(run, args + " --set data.candidates=[/data/other.jsonl]"));
  EXPECT_NE(corpus.status, 0);
  expect_contains(corpus.output, "was computed over the files [\"/data/corpus.jsonl\"]");
}
