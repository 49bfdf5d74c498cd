// grads -> score -> select on a tiny random model through the real binary:
// the metadata the grads stage really writes passes the score stage's checks
// (and a domain mean of another projection seed does not), scores equal a
// naive h5py recomputation and are the same on 1 and 3 ranks, and select
// returns the pre-selected candidates' original lines.

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <filesystem>
#include <sstream>

#include "byte_tokenizer.h"
#include "ntks/select/preselected.h"
#include "ntks/select/scores.h"
#include "ntks/util/files.h"
#include "test_util.h"

using ntks::testing::kPython;
using ntks::testing::kSelectReference;

namespace {

using namespace ntks;
using ntks::testing::run_command;
using ntks::testing::TempDir;


struct TinyRun {
  TempDir dir;
  std::string model = dir.file("model"), adapter = dir.file("adapter"), run = dir.file("run");
  std::string tokenizer = dir.write("tokenizer.json", ntks::testing::byte_tokenizer_json());
  std::string domain, candidates;
  std::vector<std::string> candidate_lines;
  TinyRun() {
    auto r = run_command(fmt::format("{} make-model --arch llama --out {} --vocab 272 --hidden 32 --intermediate 48 "
                                     "--layers 2 --heads 4 --kv-heads 2 --head-dim 8 --seed 3 --lora-out {} "
                                     "--lora-r 4 2>&1",
                                     NTKS_BINARY, model, adapter));
    EXPECT_EQ(r.status, 0) << r.output;
    std::string d, c;
    for (int i = 0; i < 4; ++i) d += fmt::format("{{\"prompt\": \"dose {}\", \"response\": \"{} mg\"}}\n", i, 7 * i + 3);
    for (int i = 0; i < 12; ++i) {
      candidate_lines.push_back(fmt::format("{{\"id\": \"c{}\", \"instruction\": \"q{} \u00e9\", \"output\": \"a{}\"}}",
                                            i, i, std::string(static_cast<size_t>(1 + i % 4), 'x')));
      c += candidate_lines.back() + (i == 5 ? "\r\n" : "\n");
    }
    domain = dir.write("domain.jsonl", d);
    candidates = dir.write("candidates.jsonl", c);
  }
  std::string command(const std::string& stage, const std::string& extra, const std::string& launcher = "") const {
    return fmt::format(
        "{} {} {} --set model.path={} --set model.tokenizer={} --set model.dtype=fp32 --set data.domain={} "
        "--set data.candidates=[{}] --set store.block_rows=3 --set grads.batch_size=2 --set grads.dim=32 "
        "--set run.dir={} {} 2>&1",
        launcher, NTKS_BINARY, stage, model, tokenizer, domain, candidates, run, extra);
  }
};

TEST(ScoreSelectE2e, GradsScoreSelectOnATinyModel) {
  TinyRun f;
  // The pre-selection (as `preselect` would write it) and grads for exactly those candidates.
  select::Preselected p;
  for (int64_t r : {9, 2, 5, 11, 0, 7}) {
    p.records.push_back(r);
    p.ids.push_back(fmt::format("c{}", r));
    p.counts.push_back(1);
    p.mean_distance.push_back(1.0);
  }
  std::filesystem::create_directories(f.run + "/preselect");
  select::write_preselected(f.run + "/preselect/preselected.h5", p);
  const std::string ids = f.dir.write("ids.txt", "c9\nc2\nc5\nc11\nc0\nc7\n");
  auto r = run_command(f.command("grads", "--adapter " + f.adapter + " --ids-file " + ids));
  ASSERT_EQ(r.status, 0) << r.output;

  r = run_command(f.command("score", ""));
  ASSERT_EQ(r.status, 0) << r.output;
  const select::ScoreTable one = select::read_scores(f.run + "/score/scores.h5");
  EXPECT_EQ(one.records, (std::vector<int64_t>{0, 2, 5, 7, 9, 11}));
  if (run_command(kPython + " -c 'import h5py, numpy'").status == 0) {
    auto ref = run_command(kPython + " " + kSelectReference + " scores " + f.run);
    EXPECT_EQ(ref.output, "ok 6\n");
  }
  r = run_command(f.command("score", "", "mpirun --oversubscribe -np 3"));
  ASSERT_EQ(r.status, 0) << r.output;
  const select::ScoreTable three = select::read_scores(f.run + "/score/scores.h5");
  EXPECT_EQ(one.scores, three.scores);
  EXPECT_EQ(one.ids, three.ids);

  r = run_command(f.command("select", "--set select.size=4"));
  ASSERT_EQ(r.status, 0) << r.output;
  std::istringstream ids_in(read_file(f.run + "/select/selected_ids.txt"));
  std::string want;
  for (std::string id; std::getline(ids_in, id);)
    want += f.candidate_lines[static_cast<size_t>(std::stoi(id.substr(1)))] + "\n";
  EXPECT_EQ(read_file(f.run + "/select/selected.jsonl"), want);
  const std::string mixture = read_file(f.run + "/select/mixture.jsonl");
  EXPECT_EQ(std::count(mixture.begin(), mixture.end(), '\n'), 4 + 4);

  // A domain mean of another projection: refused, naming both files.
  r = run_command(f.command("grads", "--adapter " + f.adapter + " --which domain --set grads.seed=7"));
  ASSERT_EQ(r.status, 0) << r.output;
  r = run_command(f.command("score", ""));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find(f.run + "/grads/domain_mean.h5 and " + f.run + "/grads/candidates.json come from different"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("stage.seed"), std::string::npos) << r.output;
}

}  // namespace
