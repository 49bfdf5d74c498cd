// `ntk-select score` through the real binary on grads files written by the
// fixture: scores equal to a naive h5py recomputation, the same file on 1 and
// 3 ranks, and clear errors for missing inputs, mismatched gradients and a
// candidate list that is not the pre-selection.

#include <gtest/gtest.h>

#include "ntks/select/scores.h"
#include "select_fixture.h"

using ntks::testing::kPython;
using ntks::testing::kSelectReference;

namespace {

using namespace ntks;
using ntks::testing::run_command;
using ntks::testing::SelectRun;

const std::string kThree = "mpirun --oversubscribe -np 3";

// The stage wrapper (pipeline) or the stage itself reports a missing input:
// either way the message names the file and the command that makes it.
bool names_missing(const std::string& output, const std::string& path, const std::string& command) {
  const size_t at = output.find(path);
  return at != std::string::npos && output.find("missing", at) != std::string::npos &&
         output.find("made by", at) != std::string::npos && output.find(command, at) != std::string::npos;
}

TEST(ScoreCli, EqualsANaiveRecomputationOnOneAndThreeRanks) {
  SelectRun f;
  auto one = run_command(f.command("score"));
  ASSERT_EQ(one.status, 0) << one.output;
  EXPECT_NE(one.output.find("11 pre-selected candidates scored"), std::string::npos) << one.output;
  const select::ScoreTable a = select::read_scores(f.run + "/score/scores.h5");
  EXPECT_EQ(a.records, f.records);
  ASSERT_EQ(a.ids.size(), 11u);
  EXPECT_EQ(a.ids[3], "c4");
  if (run_command(kPython + " -c 'import h5py, numpy'").status == 0) {
    auto ref = run_command(kPython + " " + kSelectReference + " scores " + f.run);
    EXPECT_EQ(ref.status, 0) << ref.output;
    EXPECT_EQ(ref.output, "ok 11\n");
  }
  // Identical rows score identically: the tie the selection must break.
  EXPECT_EQ(a.scores[3], a.scores[8]);

  auto three = run_command(f.command("score", "", kThree));
  ASSERT_EQ(three.status, 0) << three.output;
  const select::ScoreTable b = select::read_scores(f.run + "/score/scores.h5");
  EXPECT_EQ(a.records, b.records);
  EXPECT_EQ(a.ids, b.ids);
  EXPECT_EQ(a.scores, b.scores);  // bitwise: each score is one sum in column order on whichever rank
  EXPECT_EQ(a.metadata_json, b.metadata_json);
}

TEST(ScoreCli, LdaEqualsAnIndependentNumpyFitOnOneAndThreeRanks) {
  SelectRun f;
  auto one = run_command(f.command("score", "--set score.rule=lda --set score.shrink=0.5"));
  ASSERT_EQ(one.status, 0) << one.output;
  EXPECT_NE(one.output.find("scored by lda"), std::string::npos) << one.output;
  EXPECT_NE(one.output.find("lda: fitted on 14 gradient rows of dimension 12"), std::string::npos) << one.output;
  const select::ScoreTable a = select::read_scores(f.run + "/score/scores.h5");
  auto ref = run_command(kPython + " " + kSelectReference + " lda " + f.run + " 0.5");
  EXPECT_EQ(ref.status, 0) << ref.output;
  EXPECT_EQ(ref.output, "ok 11\n");
  // Not the paper's scores: the rule changes the ranking's basis.
  auto ntk = run_command(f.command("score"));
  ASSERT_EQ(ntk.status, 0) << ntk.output;
  EXPECT_NE(select::read_scores(f.run + "/score/scores.h5").scores, a.scores);
  // Rank 0 fits alone and broadcasts: the same scores on 3 ranks.
  auto three = run_command(f.command("score", "--set score.rule=lda --set score.shrink=0.5", kThree));
  ASSERT_EQ(three.status, 0) << three.output;
  EXPECT_EQ(select::read_scores(f.run + "/score/scores.h5").scores, a.scores);
  // A ridge of zero is refused: the covariance of 14 rows in 12 dimensions may be singular.
  auto bad = run_command(f.command("score", "--set score.rule=lda --set score.shrink=0"));
  EXPECT_EQ(bad.status, 2) << bad.output;
  EXPECT_NE(bad.output.find("score.shrink"), std::string::npos) << bad.output;
}

TEST(ScoreCli, MissingInputsNameTheFileAndTheStageThatMakesIt) {
  SelectRun f;
  std::filesystem::remove(f.run + "/grads/domain_mean.h5");
  auto r = run_command(f.command("score"));
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(names_missing(r.output, f.run + "/grads/domain_mean.h5", "ntk-select grads")) << r.output;
  f.write_domain();
  std::filesystem::remove(f.run + "/grads/candidates.json");
  r = run_command(f.command("score", "", kThree));  // on 3 ranks: reported, and no rank hangs
  EXPECT_NE(r.status, 0);
  EXPECT_TRUE(names_missing(r.output, f.run + "/grads/candidates.json", "ntk-select grads")) << r.output;
}

TEST(ScoreCli, GradientsOfOtherSettingsAreRefusedNamingBothFiles) {
  SelectRun f;
  f.write_domain(/*seed=*/7);  // another projection
  auto r = run_command(f.command("score"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find(f.run + "/grads/domain_mean.h5 and " + f.run + "/grads/candidates.json come from different "
                                  "model, adapter or grads settings (they differ in: stage.seed)"),
            std::string::npos)
      << r.output;
  EXPECT_FALSE(std::filesystem::exists(f.run + "/score/scores.h5"));
}

TEST(ScoreCli, CandidateRowsMustBeExactlyThePreselection) {
  SelectRun f;
  f.write_preselected({0, 1, 2, 4, 5, 7, 9, 10, 12, 13});  // 15 has a row but is not pre-selected
  auto r = run_command(f.command("score"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("candidates.json: 1 of its 11 rows are not in the pre-selected set " + f.run +
                          "/preselect/preselected.h5 (the first: record 15, id 'c15')"),
            std::string::npos)
      << r.output;
  f.write_preselected({0, 1, 2, 3, 4, 5, 7, 9, 10, 12, 13, 15});  // 3 is pre-selected but has no row
  r = run_command(f.command("score"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("preselected.h5: 1 of its 12 pre-selected records have no gradient row in " + f.run +
                          "/grads/candidates.json (the first: record 3, id 'c3')"),
            std::string::npos)
      << r.output;
  // Without a pre-selection every candidate row is scored.
  std::filesystem::remove(f.run + "/preselect/preselected.h5");
  r = run_command(f.command("score"));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find(": 11 candidates scored"), std::string::npos) << r.output;
}

}  // namespace
