// The baselines of select.method through `ntk-select run`: knn is the
// pre-selection's own top M and needs no gradients; random needs no model at
// all, draws uniformly (checked against a brute-force recomputation and over
// many seeds), gives the same draw for every domain set and on any rank count;
// each writes the same outputs as ntk, and select refuses scores of another
// method.

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ntks/config/config.h"
#include "ntks/data/record.h"
#include "ntks/select/baseline_scores.h"
#include "run_fixture.h"
#include "test_util.h"

using ntks::testing::lines_in;
using ntks::testing::kPython;

namespace {

using namespace ntks::testing::run;
using ntks::read_file;

TEST(SelectMethods, KnnIsThePreselectionsTopMWithoutGradients) {
  RunFixture f;
  auto r = f.ntks("knn", "run --set select.method=knn");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("select.method knn: 5 stage(s) ran"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("grads      not needed"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(f.run_dir("knn") + "/grads"));
  const auto pre = lines_in(read_file(f.run_dir("knn") + "/preselect/preselected_ids.txt"));
  const auto sel = lines_in(read_file(f.run_dir("knn") + "/select/selected_ids.txt"));
  ASSERT_EQ(sel.size(), 6u);
  EXPECT_EQ(sel, std::vector<std::string>(pre.begin(), pre.begin() + 6));
  // The mixture holds the domain lines that were embedded, and the report names the method.
  EXPECT_EQ(lines_in(read_file(f.run_dir("knn") + "/select/mixture.jsonl")).size(), 12u);
  const auto report = nlohmann::json::parse(read_file(f.run_dir("knn") + "/select/report.json"));
  EXPECT_EQ(report["method"], "knn");
  EXPECT_TRUE(report["inputs"].contains("embed_domain"));
  // Up to date on a rerun; switching the method reruns only score and select.
  r = f.ntks("knn", "run --set select.method=knn");
  EXPECT_NE(r.output.find("0 stage(s) ran, 5 up to date"), std::string::npos) << r.output;
  r = f.ntks("knn", "run");
  EXPECT_NE(r.output.find("select.method ntk: 3 stage(s) ran, 3 up to date"), std::string::npos) << r.output;
}

TEST(SelectMethods, RandomNeedsNoModelAndIsAUniformSeededDraw) {
  RunFixture f;
  // No model at all: model.path points nowhere.
  auto r = f.ntks("rnd", "run --set select.method=random --set model.path=/nowhere --set select.size=10");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("select.method random: 2 stage(s) ran"), std::string::npos) << r.output;
  const auto sel = lines_in(read_file(f.run_dir("rnd") + "/select/selected_ids.txt"));
  ASSERT_EQ(sel.size(), 10u);
  // Brute force: the 10 records whose key from (run.seed 7, content hash) is largest.
  ntks::config::DataConfig data;
  std::vector<std::pair<double, std::string>> keyed;
  for (const std::string& line : lines_in(read_file(f.dir.file("candidates.jsonl")))) {
    const auto rec = ntks::data::parse_record(line, data);
    keyed.emplace_back(ntks::select::random_key(7, ntks::data::content_hash(rec)), rec.id);
  }
  std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t k = 0; k < 10; ++k) EXPECT_EQ(sel[k], keyed[k].second) << k;
  // The mixture: every domain line, since random computes nothing on them.
  EXPECT_EQ(lines_in(read_file(f.run_dir("rnd") + "/select/mixture.jsonl")).size(), 16u);

  // The same draw whatever the domain set, and on 3 ranks.
  f.dir.write("other_domain.jsonl", "{\"prompt\": \"something else\", \"response\": \"entirely\"}\n");
  r = f.ntks("rnd3", fmt::format("run --set select.method=random --set select.size=10 --set data.domain={}",
                                 f.dir.file("other_domain.jsonl")),
             "mpirun --oversubscribe -np 3");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(read_file(f.run_dir("rnd3") + "/select/selected_ids.txt"),
            read_file(f.run_dir("rnd") + "/select/selected_ids.txt"));

  // Uniform: over 2000 seeds each of the 30 records is drawn with frequency 10/30.
  std::vector<uint64_t> hashes;
  for (const std::string& line : lines_in(read_file(f.dir.file("candidates.jsonl"))))
    hashes.push_back(ntks::data::content_hash(ntks::data::parse_record(line, data)));
  std::vector<int> drawn(hashes.size(), 0);
  const int seeds = 2000;
  for (int s = 0; s < seeds; ++s) {
    std::vector<std::pair<double, size_t>> k;
    for (size_t i = 0; i < hashes.size(); ++i) k.emplace_back(ntks::select::random_key(s, hashes[i]), i);
    std::partial_sort(k.begin(), k.begin() + 10, k.end(), std::greater<>());
    for (int j = 0; j < 10; ++j) ++drawn[k[static_cast<size_t>(j)].second];
  }
  // Binomial(2000, 1/3): sd 21; 7 sd apart is a chance below 1e-11 per record.
  for (size_t i = 0; i < drawn.size(); ++i) EXPECT_NEAR(drawn[i], seeds / 3.0, 150) << "record " << i;
}

TEST(SelectMethods, BadLinesAndScoresOfAnotherMethodAreNamed) {
  RunFixture f;
  const std::string bad = f.dir.write("bad.jsonl", "{\"instruction\": \"q\", \"output\": \"a\", \"id\": \"x\"}\n"
                                                   "not json\n");
  auto r = f.ntks("b", fmt::format("run --set select.method=random --set select.size=1 --set data.candidates=[{}]", bad));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("bad.jsonl:2"), std::string::npos) << r.output;
  r = f.ntks("b", fmt::format("run --set select.method=random --set select.size=1 --set data.candidates=[{}] "
                              "--set data.on_error=skip",
                              bad));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(read_file(f.run_dir("b") + "/select/selected_ids.txt"), "x\n");
  // select alone after a score of another method.
  ASSERT_EQ(f.ntks("c", "run --set select.method=knn").status, 0);
  ASSERT_EQ(f.ntks("c", "score --set select.method=random").status, 0);
  r = f.ntks("c", "select --set select.method=knn");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("holds the scores of select.method random, but select.method is knn"), std::string::npos)
      << r.output;
}

}  // namespace

namespace {

using ntks::testing::run_command;

// LESS scores from the grads files with numpy, independently of less_scores.
const char* kLessReference = R"(
import glob, json, sys
import h5py, numpy as np
run, reduce = sys.argv[1], sys.argv[2]
index = json.load(open(run + "/grads/candidates.json"))
C = np.concatenate([h5py.File(run + "/grads/" + s["file"], "r")["features"][:] for s in index["shards"]]).astype(np.float64)
D = h5py.File(run + "/grads/domain.h5", "r")["features"][:].astype(np.float64)
cos = (C / np.linalg.norm(C, axis=1, keepdims=True)) @ (D / np.linalg.norm(D, axis=1, keepdims=True)).T
want = cos.max(1) if reduce == "max" else cos.mean(1)
got = h5py.File(run + "/score/scores.h5", "r")["scores"][:]
err = np.abs(got - want).max()
print("ok" if err < 1e-12 else "max difference %g" % err)
)";

TEST(SelectMethods, LessWarmsUpOnCandidatesAndScoresAdamDirectionsByCosine) {
  RunFixture f;
  auto r = f.ntks("less", "run --set select.method=less --set less.warmup_samples=10");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("select.method less: 4 stage(s) ran"), std::string::npos) << r.output;
  // The warm-up trained on 10 candidates (batch 2: 5 steps), and left its Adam state.
  EXPECT_NE(r.output.find("warmup     ran"), std::string::npos);
  EXPECT_NE(r.output.find("steps 5"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::exists(f.run_dir("less") + "/warmup/optimizer.safetensors"));
  // Every candidate has a gradient row (no pre-selection).
  EXPECT_NE(r.output.find("candidates 30"), std::string::npos) << r.output;
  f.dir.write("less_ref.py", kLessReference);
  auto ref = run_command(kPython + " " + f.dir.file("less_ref.py") + " " + f.run_dir("less") + " max");
  EXPECT_EQ(ref.output, "ok\n") << ref.output;
  r = f.ntks("less", "run --set select.method=less --set less.warmup_samples=10 --set less.reduce=mean");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("2 stage(s) ran, 2 up to date"), std::string::npos) << r.output;
  ref = run_command(kPython + " " + f.dir.file("less_ref.py") + " " + f.run_dir("less") + " mean");
  EXPECT_EQ(ref.output, "ok\n") << ref.output;
  // LESS's gradients refuse a warm-up that trained on the domain set.
  ASSERT_EQ(f.ntks("ntkwarm", "warmup").status, 0);
  r = f.ntks("ntkwarm", "grads --set select.method=less");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("was trained on the domain set: run `ntk-select warmup --set select.method=less`"),
            std::string::npos)
      << r.output;
  // The same selection on 3 ranks.
  const std::string one = read_file(f.run_dir("less") + "/select/selected_ids.txt");
  r = f.ntks("less3", "run --set select.method=less --set less.warmup_samples=10 --set less.reduce=mean",
             "mpirun --oversubscribe -np 3");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(read_file(f.run_dir("less3") + "/select/selected_ids.txt"), one);
}

TEST(SelectMethods, DsirNeedsNoModelAndIsTheSameOnAnyRankCount) {
  RunFixture f;
  auto r = f.ntks("dsir", "run --set select.method=dsir --set model.path=/nowhere --set dsir.resample=top_k");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("select.method dsir: 2 stage(s) ran"), std::string::npos) << r.output;
  const auto top = ntks::select::read_scores(f.run_dir("dsir") + "/score/scores.h5");
  ASSERT_EQ(top.records.size(), 30u);
  // top_k: the scores are the log importance weights, as an independent
  // Python DSIR computes them from the same texts (the conversation's
  // contents, one per line).
  ntks::config::DataConfig data;
  auto texts = [&](const std::string& file) {
    nlohmann::json out = nlohmann::json::array();
    for (const std::string& line : lines_in(read_file(f.dir.file(file)))) {
      std::string text;
      for (const auto& m : ntks::data::parse_record(line, data).messages) text += (text.empty() ? "" : "\n") + m.content;
      out.push_back(text);
    }
    return out;
  };
  const nlohmann::json spec = {{"domain", texts("domain.jsonl")}, {"pool", texts("candidates.jsonl")},
                               {"buckets", 10000}, {"ngram", 2}, {"smoothing", 0}, {"min_words", 0}};
  const std::string spec_file = f.dir.write("dsir_spec.json", spec.dump());
  auto ref = run_command(kPython + " " + NTKS_SOURCE_DIR + "/tests/scripts/dsir_reference.py weights " + spec_file);
  ASSERT_EQ(ref.status, 0) << ref.output;
  const auto want = nlohmann::json::parse(ref.output)["log_weights"];
  ASSERT_EQ(want.size(), 30u);
  for (size_t i = 0; i < 30; ++i)
    EXPECT_NEAR(top.scores[i], want[i].get<double>(), 1e-9 * std::max(1.0, std::abs(want[i].get<double>()))) << i;
  const auto sel = lines_in(read_file(f.run_dir("dsir") + "/select/selected_ids.txt"));
  ASSERT_EQ(sel.size(), 6u);
  r = f.ntks("dsir3", "run --set select.method=dsir --set model.path=/nowhere --set dsir.resample=top_k",
             "mpirun --oversubscribe -np 3");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(ntks::select::read_scores(f.run_dir("dsir3") + "/score/scores.h5").scores, top.scores);
  // gumbel: a seeded draw, other scores, the same on any rank count.
  r = f.ntks("dsir", "run --set select.method=dsir --set model.path=/nowhere");
  ASSERT_EQ(r.status, 0) << r.output;
  const auto g = ntks::select::read_scores(f.run_dir("dsir") + "/score/scores.h5");
  EXPECT_NE(g.scores, top.scores);
  r = f.ntks("dsir3", "run --set select.method=dsir --set model.path=/nowhere", "mpirun --oversubscribe -np 3");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(ntks::select::read_scores(f.run_dir("dsir3") + "/score/scores.h5").scores, g.scores);
}

TEST(SelectMethods, TsdsScoresTheEmbeddingsOnRankZero) {
  RunFixture f;
  auto r = f.ntks("tsds", "run --set select.method=tsds --set tsds.max_k=10 --set tsds.kde_k=5");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("select.method tsds: 4 stage(s) ran"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("grads      not needed"), std::string::npos) << r.output;
  const auto t = ntks::select::read_scores(f.run_dir("tsds") + "/score/scores.h5");
  ASSERT_EQ(t.records.size(), 30u);
  const auto meta = nlohmann::json::parse(t.metadata_json);
  EXPECT_EQ(meta["method"], "tsds");
  EXPECT_GE(meta["support"].get<int64_t>(), 6);
  r = f.ntks("tsds2", "run --set select.method=tsds --set tsds.max_k=10 --set tsds.kde_k=5",
             "mpirun --oversubscribe -np 2");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(read_file(f.run_dir("tsds2") + "/select/selected_ids.txt"),
            read_file(f.run_dir("tsds") + "/select/selected_ids.txt"));
}

}  // namespace
