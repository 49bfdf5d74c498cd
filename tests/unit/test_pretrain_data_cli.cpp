// `ntk-select pretrain-data` through the real binary: options, the summary,
// exit codes on the fixtures, and the point of it on Debian's real packages:
// a corpus built with --exclude holds none of the demo's samples, checked by
// a plain search independent of the rolling-hash filter.

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "jsonl_file.h"
#include "ntks/corpora/wordnet.h"
#include "ntks/util/files.h"
#include "test_util.h"

namespace {

using ntks::testing::read_jsonl;
using ntks::testing::run_command;
using ntks::testing::TempDir;

const std::string kPretrainData = std::string(NTKS_SOURCE_DIR) + "/tests/data";

std::string fixture_args(const std::string& dictd = kPretrainData + "/dictd") {
  return fmt::format("--wordnet {0}/wordnet --dictd {1} --fortunes {0}/fortunes --sources wordnet,gcide,devil,fortunes",
                     kPretrainData, dictd);
}

TEST(PretrainDataCli, WritesTheFixtureCorpusAndExplainsOptions) {
  TempDir dir;
  const std::string out = dir.file("corpus.jsonl");
  auto r = run_command(fmt::format("{} pretrain-data {} --out {} 2>&1", NTKS_BINARY, fixture_args(), out));
  ASSERT_EQ(r.status, 0) << r.output;
  const auto docs = read_jsonl(out);
  ASSERT_EQ(docs.size(), 34u);
  for (const auto& d : docs) EXPECT_EQ(d.size(), 3u) << d;  // id, source, text
  EXPECT_NE(r.output.find("source    documents       text  excluded duplicate  empty invalid  capped\n"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("\ngcide             4     0.0 MB         0         0      1       0       0\n"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("\ntotal            34"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("excluded: nothing (no --exclude)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("wrote 34 documents"), std::string::npos) << r.output;

  r = run_command(fmt::format("{} pretrain-data --help 2>&1", NTKS_BINARY));
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* o : {"--out", "--sources", "--exclude", "--max-bytes", "--seed", "--wordnet", "--dictd",
                        "--fortunes", "dict-gcide", "fortunes-min"})
    EXPECT_NE(r.output.find(o), std::string::npos) << o;

  r = run_command(fmt::format("{} pretrain-data {} 2>&1", NTKS_BINARY, fixture_args()));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("--out is required"), std::string::npos) << r.output;
  r = run_command(fmt::format("{} pretrain-data --sources wordnet,devils --out {} 2>&1", NTKS_BINARY, out));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("unknown source 'devils' (nearest: 'devil')"), std::string::npos) << r.output;
  r = run_command(fmt::format("{} pretrain-data {} --out {} 2>&1", NTKS_BINARY, fixture_args(dir.path().string()), out));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("gcide.index is missing (Debian: apt-get install dict-gcide"), std::string::npos)
      << r.output;
  r = run_command(fmt::format("{} pretrain-data {} --max-bytes 10 --out {} 2>&1", NTKS_BINARY, fixture_args(), out));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("the corpus has no documents"), std::string::npos) << r.output;
  EXPECT_EQ(read_jsonl(out).size(), 34u);  // the earlier file is left as it was
}

bool debian_text_installed() {
  for (const char* f : {"/usr/share/wordnet/data.noun", "/usr/share/dictd/gcide.index", "/usr/share/dictd/jargon.index",
                        "/usr/share/dictd/foldoc.index", "/usr/share/dictd/devil.index",
                        "/usr/share/games/fortunes/fortunes"})
    if (!std::filesystem::exists(f)) return false;
  return true;
}

// The patterns (each kMinPattern bytes or more) that occur in `text`, by
// index. An occurrence starts with a window of kMinPattern bytes equal to its
// pattern's first ones: every window of the text is looked up in a hash set
// of those prefixes, compared exactly, and only a hit is compared in full.
// One pass over the text instead of one per pattern (a search per pattern
// took 45 s), and no rolling hash, unlike the filter under test.
constexpr size_t kMinPattern = 20;

std::set<size_t> occurring(const std::vector<std::string>& patterns, const std::string& text) {
  std::unordered_map<std::string_view, std::vector<size_t>> by_prefix;
  for (size_t p = 0; p < patterns.size(); ++p) {
    EXPECT_GE(patterns[p].size(), kMinPattern);
    by_prefix[std::string_view(patterns[p]).substr(0, kMinPattern)].push_back(p);
  }
  std::set<size_t> found;
  const std::string_view all(text);
  for (size_t at = 0; at + kMinPattern <= all.size(); ++at) {
    const auto hit = by_prefix.find(all.substr(at, kMinPattern));
    if (hit == by_prefix.end()) continue;
    for (size_t p : hit->second)
      if (all.substr(at, patterns[p].size()) == patterns[p]) found.insert(p);
  }
  return found;
}

// The search of the test below, against a plain std::string::find.
TEST(PretrainDataCli, ExcludedTextSearchFindsWhatFindFinds) {
  const std::string text = "the quick brown fox jumps over the lazy dog\x1f" "a second text, the quick brown fox sleeps";
  const std::vector<std::string> patterns = {
      "the quick brown fox jumps",    // at the start
      "the quick brown fox sleeps",   // same first 20 bytes, later and at the very end
      "the quick brown fox dances",   // same first 20 bytes, nowhere
      "over the lazy dog\x1f" "a second",  // across the separator
      "a text that is not there at all"};
  std::set<size_t> want;
  for (size_t p = 0; p < patterns.size(); ++p)
    if (text.find(patterns[p]) != std::string::npos) want.insert(p);
  EXPECT_EQ(want, (std::set<size_t>{0, 1, 3}));
  EXPECT_EQ(occurring(patterns, text), want);
}

// The demo data for medicine and law, a corpus built without them, and a
// search for every sample field and every gloss and example (20 bytes or
// more) of the samples' synsets in the texts of the corpus: domain and test
// sets whole, every 10th pool sample (one pass over the ~50 MB of text).
TEST(PretrainDataCli, RealCorpusHoldsNoExcludedSample) {
  if (!debian_text_installed())
    GTEST_SKIP() << "wordnet-base, dict-gcide, dict-jargon, dict-foldoc, dict-devil or fortunes is not installed "
                    "(cluster/install-deps)";
  TempDir dir;
  for (const char* domain : {"medicine", "law"}) {
    auto r = run_command(fmt::format("{} demo-data --domain {} --out {} 2>&1", NTKS_BINARY, domain, dir.file(domain)));
    ASSERT_EQ(r.status, 0) << r.output;
  }
  const std::string out = dir.file("corpus.jsonl");
  auto r = run_command(fmt::format("{} pretrain-data --out {} --exclude {} {} 2>&1", NTKS_BINARY, out,
                                   dir.file("medicine"), dir.file("law")));
  ASSERT_EQ(r.status, 0) << r.output;
  std::cout << r.output;

  std::string all;  // every text, separated by a byte no pattern holds
  std::set<std::string> ids;
  size_t documents = 0;
  {
    std::istringstream in(ntks::read_file(out));
    for (std::string line; std::getline(in, line); ++documents) {
      const auto j = nlohmann::json::parse(line);
      all += j.at("text").get<std::string>();
      all += '\x1f';
      ids.insert(j.at("id").get<std::string>());
    }
  }
  EXPECT_GT(documents, 100000u);
  EXPECT_GT(all.size(), 10000000u);

  const ntks::corpora::wordnet::Database db = ntks::corpora::wordnet::Database::load("/usr/share/wordnet");
  std::vector<std::string> patterns;
  auto add = [&](const std::string& s) {
    if (s.size() >= kMinPattern) patterns.push_back(s);
  };
  size_t samples = 0, synsets = 0;
  for (const char* domain : {"medicine", "law"}) {
    for (const char* file : {"domain.jsonl", "test.jsonl", "pool.jsonl"}) {
      const auto lines = read_jsonl(dir.file(std::string(domain) + "/" + file));
      const size_t step = std::string(file) == "pool.jsonl" ? 10 : 1;
      for (size_t k = 0; k < lines.size(); k += step) {
        const auto& s = lines[k];
        ++samples;
        for (const char* f : {"instruction", "input", "output"}) add(s.at(f).get<std::string>());
        const std::string id = s.at("id");  // wn-n06043075-define
        const long i = db.find(id[3], static_cast<uint32_t>(std::stoul(id.substr(4, 8))));
        ASSERT_GE(i, 0) << id;
        ++synsets;
        const auto& syn = db.synsets()[static_cast<size_t>(i)];
        add(syn.definition);
        for (const std::string& e : syn.examples) add(e);
        EXPECT_EQ(ids.count("wordnet:" + id.substr(3, 9)), 0u) << id;
      }
    }
  }
  std::sort(patterns.begin(), patterns.end());
  patterns.erase(std::unique(patterns.begin(), patterns.end()), patterns.end());
  const std::set<size_t> in_corpus = occurring(patterns, all);
  size_t shown = 0;
  for (size_t p : in_corpus)
    if (++shown <= 5) ADD_FAILURE() << "the corpus holds an excluded text: '" << patterns[p] << "'";
  EXPECT_EQ(in_corpus.size(), 0u);
  std::cout << fmt::format("checked {} samples, {} synsets, {} distinct texts against {} documents, {} bytes\n",
                           samples, synsets, patterns.size(), documents, all.size());

  // The same inputs give the same bytes.
  r = run_command(fmt::format("{} pretrain-data --out {} --exclude {} {} 2>&1", NTKS_BINARY, dir.file("again.jsonl"),
                              dir.file("medicine"), dir.file("law")));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(ntks::read_file(dir.file("again.jsonl")) == ntks::read_file(out));
}

}  // namespace
