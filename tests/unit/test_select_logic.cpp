// The pieces of `select` on their own: the portable shuffle (pinned to the
// reference splitmix64 and to an independent Python transcription), the top-M
// rule, the mixture order, the score sum and the partial-then-rename line file.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <numeric>

#include "ntks/select/mixture.h"
#include "ntks/select/outputs.h"
#include "ntks/select/run_files.h"
#include "ntks/select/scores.h"
#include "ntks/select/shuffle.h"
#include "ntks/select/topk.h"
#include "ntks/util/error.h"
#include "ntks/util/files.h"
#include "test_util.h"

namespace {

using namespace ntks;
using namespace ntks::select;
using ntks::testing::error_of;
using ntks::testing::TempDir;

TEST(SelectShuffle, SplitMix64IsTheReferenceGenerator) {
  // Vigna's splitmix64.c from state 0: the first outputs.
  SplitMix64 g(0);
  EXPECT_EQ(g.next(), 0xE220A8397B1DCDAFULL);
  EXPECT_EQ(g.next(), 0x6E789E6AA1B965F4ULL);
  EXPECT_EQ(g.next(), 0x06C45D188009454FULL);
}

TEST(SelectShuffle, PinnedPermutationsFromThePythonTranscription) {
  // tests/scripts/select_reference.py shuffle 10 42 / shuffle 10 7
  std::vector<int> a(10), b(10);
  std::iota(a.begin(), a.end(), 0);
  std::iota(b.begin(), b.end(), 0);
  portable_shuffle(a, 42);
  portable_shuffle(b, 7);
  EXPECT_EQ(a, (std::vector<int>{0, 9, 5, 8, 6, 4, 7, 2, 1, 3}));
  EXPECT_EQ(b, (std::vector<int>{8, 1, 5, 9, 0, 4, 3, 2, 6, 7}));
}

TEST(SelectShuffle, APermutationThatDependsOnTheSeed) {
  std::vector<int> base(1000);
  std::iota(base.begin(), base.end(), 0);
  auto a = base, a2 = base, b = base;
  portable_shuffle(a, 1);
  portable_shuffle(a2, 1);
  portable_shuffle(b, 2);
  EXPECT_EQ(a, a2);
  EXPECT_NE(a, b);
  EXPECT_NE(a, base);
  std::sort(a.begin(), a.end());
  EXPECT_EQ(a, base);
  std::vector<int> empty, one{5};
  portable_shuffle(empty, 3);
  portable_shuffle(one, 3);
  EXPECT_EQ(one, std::vector<int>{5});
}

TEST(SelectShuffle, BelowIsUniformEnoughAndInRange) {
  SplitMix64 g(9);
  std::vector<int> hits(3, 0);
  for (int i = 0; i < 30000; ++i) ++hits[g.below(3)];
  for (int h : hits) EXPECT_NEAR(h, 10000, 400);
  EXPECT_EQ(g.below(1), 0u);
}

TEST(SelectTopM, HigherScoreFirstTiesToTheLowerRecord) {
  const std::vector<double> scores = {0.5, 2.0, -1.0, 2.0, 0.5, 3.0};
  const std::vector<int64_t> records = {40, 31, 12, 7, 3, 99};
  EXPECT_EQ(top_m(scores, records, 4), (std::vector<size_t>{5, 3, 1, 4}));
  EXPECT_EQ(top_m(scores, records, 6), (std::vector<size_t>{5, 3, 1, 4, 0, 2}));
  EXPECT_TRUE(top_m(scores, records, 0).empty());
}

TEST(SelectTopM, TooManyAndNaNAreErrors) {
  const std::vector<double> scores = {1, 2, 3};
  const std::vector<int64_t> records = {0, 1, 2};
  const std::string m = error_of<UsageError>([&] { top_m(scores, records, 4); });
  EXPECT_NE(m.find("select.size 4 is larger than the 3 scored candidates"), std::string::npos) << m;
  const std::string n = error_of<InputError>([&] { top_m({1, std::nan(""), 3}, records, 1); });
  EXPECT_NE(n.find("record 1 is NaN"), std::string::npos) << n;
}

TEST(SelectMixture, DomainThenSelectedShuffled) {
  const auto order = mixture_order(3, 4, 42);
  ASSERT_EQ(order.size(), 7u);
  std::vector<MixtureItem> before = {{true, 0}, {true, 1}, {true, 2}, {false, 0}, {false, 1}, {false, 2}, {false, 3}};
  // The same permutation as shuffling the concatenated list.
  auto expected = before;
  portable_shuffle(expected, 42);
  EXPECT_EQ(order, expected);
  EXPECT_NE(order, before);
  EXPECT_NE(mixture_order(3, 4, 43), order);
}

TEST(SelectScore, OneFloat64SumInColumnOrder) {
  const float row[] = {1.0f, 1e8f, -1e8f, 0.25f};
  const double mean[] = {1.0, 1.0, 1.0, 2.0};
  // float32 would lose the 1.0 against 1e8; double keeps every product exactly here.
  EXPECT_EQ(ntk_score(row, mean, 4), 1.5);
  EXPECT_EQ(ntk_score(row, mean, 0), 0.0);
}

TEST(SelectLineFile, PartialUntilCommittedAndRemovedWhenAbandoned) {
  TempDir dir;
  const std::string path = dir.file("out.jsonl");
  {
    LineFile f(path);
    f.add("a\tb");
    f.add("");
    EXPECT_TRUE(std::filesystem::exists(path + ".partial"));
    EXPECT_FALSE(std::filesystem::exists(path));
    EXPECT_EQ(f.commit(), 5u);
  }
  EXPECT_EQ(read_file(path), "a\tb\n\n");
  EXPECT_FALSE(std::filesystem::exists(path + ".partial"));
  {
    LineFile f(path);
    f.add("never finished");
  }
  EXPECT_EQ(read_file(path), "a\tb\n\n");  // the old file stays; no partial is left
  EXPECT_FALSE(std::filesystem::exists(path + ".partial"));
}

}  // namespace

namespace {

TEST(SelectRunFiles, AMissingInputNamesTheStageThatMakesIt) {
  ntks::testing::TempDir dir;
  const ntks::select::RunFiles f{dir.file("run")};
  EXPECT_EQ(f.scores(), dir.file("run") + "/score/scores.h5");
  const std::string m =
      ntks::testing::error_of<ntks::InputError>([&] { ntks::select::require_input(f.scores(), "ntk-select score"); });
  EXPECT_EQ(m, f.scores() + " is missing: it is made by `ntk-select score` (run that first)");
}

}  // namespace
