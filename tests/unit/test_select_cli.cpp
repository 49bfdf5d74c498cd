// `ntk-select select` through the real binary on the fixture's run folder:
// the best M by score with ties to the lower record, the original lines byte
// for byte, the score table with ranks and kNN columns, the mixture as a
// seeded permutation of domain ∪ selected (checked against an independent
// Python shuffle), the report, and errors for M too large and missing inputs.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

#include "ntks/select/scores.h"
#include "ntks/store/array_file.h"
#include "ntks/util/files.h"
#include "select_fixture.h"
#include "test_util.h"

using ntks::testing::lines_in;
using ntks::testing::kPython;
using ntks::testing::kSelectReference;

namespace {

using namespace ntks;
using ntks::testing::run_command;
using ntks::testing::SelectRun;


// The records of a JSONL text as the corpus index defines them, split here
// independently: non-blank lines, without "\n" or "\r\n".
std::vector<std::string> records_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") != std::string::npos) out.push_back(line);
  }
  return out;
}

struct Selected : SelectRun {
  std::vector<std::string> candidate_lines, domain_lines;
  Selected() {
    candidate_lines = records_of(cand_a_text);
    for (auto& l : records_of(cand_b_text)) candidate_lines.push_back(l);
    domain_lines = records_of(domain_text);
    auto r = run_command(command("score"));
    EXPECT_EQ(r.status, 0) << r.output;
  }
  std::string out(const std::string& name) const { return run + "/select/" + name; }
};

TEST(SelectCli, TheBestLinesByteForByteInRankOrder) {
  Selected f;
  auto r = run_command(f.command("select", "--set select.size=6"));
  ASSERT_EQ(r.status, 0) << r.output;
  // The expected order from the scores, by a full sort (ties: lower record).
  const select::ScoreTable t = select::read_scores(f.run + "/score/scores.h5");
  std::vector<size_t> order(t.records.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return t.scores[a] > t.scores[b] || (t.scores[a] == t.scores[b] && t.records[a] < t.records[b]);
  });
  std::vector<std::string> want_ids;
  std::string want_lines;
  for (size_t k = 0; k < 6; ++k) {
    want_ids.push_back(t.ids[order[k]]);
    want_lines += f.candidate_lines[static_cast<size_t>(t.records[order[k]])] + "\n";
  }
  // 4 and 12 tie (identical rows): the lower record first; then the boosted 15, 1, 2.
  EXPECT_EQ(want_ids, (std::vector<std::string>{"c4", "c12", "c15", "c1", "c2", want_ids[5]}));
  EXPECT_EQ(lines_in(read_file(f.out("selected_ids.txt"))), want_ids);
  const std::string got = read_file(f.out("selected.jsonl"));
  EXPECT_EQ(got, want_lines);
  // The CRLF line keeps all its bytes but the line ending; unicode and spacing are untouched;
  // the last line of a file without a newline gets one.
  EXPECT_NE(got.find("{\"id\": \"c1\", \"instruction\": \"crlf line\", \"output\": \"a1\"}\n"), std::string::npos);
  EXPECT_EQ(got.find('\r'), std::string::npos);
  EXPECT_NE(got.find("\"unicode \u00e9 \u6f22\u5b57 \\u00e9 \U0001F642\", \"output\":  \"a2\"   }\n"),
            std::string::npos);
  EXPECT_NE(got.find("{\"id\": \"c15\", \"instruction\": \"q15\", \"output\": \"a15\"}\n"), std::string::npos);

  // The score table: every pre-selected candidate, its rank and kNN columns.
  store::ArrayFileReader h(f.out("scores.h5"));
  EXPECT_EQ(h.read_int64("records"), t.records);
  EXPECT_EQ(h.read_double("scores"), t.scores);
  const auto rank = h.read_int64("rank"), counts = h.read_int64("knn_count");
  const auto dist = h.read_double("mean_distance");
  for (size_t i = 0; i < t.records.size(); ++i) {
    const auto at = std::find(order.begin(), order.end(), i) - order.begin();
    EXPECT_EQ(rank[i], at < 6 ? at + 1 : 0) << t.ids[i];
    EXPECT_EQ(counts[i], t.records[i] % 3 + 1);
    EXPECT_EQ(dist[i], 0.5 + static_cast<double>(t.records[i]) / 8);
  }

  const auto report = nlohmann::json::parse(read_file(f.out("report.json")));
  EXPECT_EQ(report["counts"]["selected"], 6);
  EXPECT_EQ(report["counts"]["scored"], 11);
  EXPECT_EQ(report["counts"]["domain_lines"], 3);
  EXPECT_EQ(report["counts"]["mixture_lines"], 9);
  EXPECT_EQ(report["scores"]["selected"]["max"].get<double>(), t.scores[order[0]]);
  EXPECT_EQ(report["scores"]["selected"]["min"].get<double>(), t.scores[order[5]]);
  EXPECT_EQ(report["scores"]["all"]["min"].get<double>(), t.scores[order.back()]);
  EXPECT_EQ(report["output_bytes"]["selected.jsonl"], got.size());
  EXPECT_EQ(report["inputs"]["scores"]["bytes"], std::filesystem::file_size(f.run + "/score/scores.h5"));
  EXPECT_NE(r.output.find("selected 6 of 11 pre-selected candidates"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("best first: c4, c12, c15, c1, c2, ..."), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(f.out("mixture.jsonl") + "  3 domain + 6 selected lines, shuffled with seed 42"),
            std::string::npos)
      << r.output;
  for (const char* name : {"selected.jsonl", "selected_ids.txt", "mixture.jsonl", "scores.h5", "report.json"})
    EXPECT_FALSE(std::filesystem::exists(f.out(name) + ".partial")) << name;
}

TEST(SelectCli, MixtureIsASeededPermutationOfTheDomainLinesUsedAndTheSelected) {
  Selected f;
  auto r = run_command(f.command("select", "--set select.size=5 --set run.seed=42"));
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string first = read_file(f.out("mixture.jsonl"));
  // Before the shuffle: the domain lines with a gradient row (record 2 has none), then the selected.
  std::vector<std::string> items;
  for (int64_t d : f.domain_records) items.push_back(f.domain_lines[static_cast<size_t>(d)]);
  for (const auto& l : lines_in(read_file(f.out("selected.jsonl")))) items.push_back(l);
  ASSERT_EQ(items.size(), 8u);
  std::vector<std::string> got = lines_in(first), sorted_items = items, sorted_got = got;
  std::sort(sorted_items.begin(), sorted_items.end());
  std::sort(sorted_got.begin(), sorted_got.end());
  EXPECT_EQ(sorted_got, sorted_items);
  if (run_command(kPython + " -c 'import h5py'").status == 0) {
    auto perm = run_command(kPython + " " + kSelectReference + " shuffle 8 42");
    ASSERT_EQ(perm.status, 0) << perm.output;
    std::vector<std::string> want;
    for (const auto& p : lines_in(perm.output)) want.push_back(items[std::stoul(p)]);
    EXPECT_EQ(got, want);
  }
  r = run_command(f.command("select", "--set select.size=5 --set run.seed=42"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(read_file(f.out("mixture.jsonl")), first);
  r = run_command(f.command("select", "--set select.size=5 --set run.seed=43"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(read_file(f.out("mixture.jsonl")), first);
}

TEST(SelectCli, WithoutAPreselectionTheKnnColumnsAreEmpty) {
  Selected f;
  std::filesystem::remove(f.run + "/preselect/preselected.h5");
  auto r = run_command(f.command("select", "--set select.size=11"));
  ASSERT_EQ(r.status, 0) << r.output;
  store::ArrayFileReader h(f.out("scores.h5"));
  for (int64_t c : h.read_int64("knn_count")) EXPECT_EQ(c, -1);
  for (double d : h.read_double("mean_distance")) EXPECT_TRUE(std::isnan(d));
  auto rank = h.read_int64("rank");
  std::sort(rank.begin(), rank.end());
  EXPECT_EQ(rank, (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
  EXPECT_NE(r.output.find("selected 11 of 11 candidates"), std::string::npos) << r.output;
}

TEST(SelectCli, ErrorsNameTheNumbersTheFilesAndTheStages) {
  Selected f;
  auto r = run_command(f.command("select", "--set select.size=12"));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("select.size 12 is larger than the 11 scored candidates"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(f.out("report.json")));

  // Scores of another pre-selection.
  f.write_preselected({0, 1, 2, 4, 5, 7, 9, 10, 12, 13});
  r = run_command(f.command("select", "--set select.size=3"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("scores.h5 scores 11 candidates, 1 of them not pre-selected (e.g. 'c15')"),
            std::string::npos)
      << r.output;

  // Another candidate corpus than the gradients were computed over.
  f.write_preselected();
  r = run_command(fmt::format("{} select --set run.dir={} --set data.domain={} --set data.candidates=[{}] 2>&1",
                              NTKS_BINARY, f.run, f.domain, f.cand_a));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("but data.candidates is now"), std::string::npos) << r.output;

  std::filesystem::remove(f.run + "/score/scores.h5");
  r = run_command(f.command("select", "--set select.size=3", "mpirun --oversubscribe -np 2"));
  EXPECT_NE(r.status, 0);
  // The stage wrapper (pipeline) or the stage reports it: the file and the command that makes it.
  const size_t at = r.output.find(f.run + "/score/scores.h5");
  ASSERT_NE(at, std::string::npos) << r.output;
  EXPECT_NE(r.output.find("missing", at), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("made by", at), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("`ntk-select score`", at), std::string::npos) << r.output;
}

}  // namespace
