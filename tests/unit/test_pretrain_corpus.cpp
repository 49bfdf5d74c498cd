// The pretraining corpus builder on the fixtures (tests/data/wordnet, dictd,
// fortunes): counts, exclusion, duplicates, shuffle, cap and bad input.
// The exclusion on Debian's real packages is in test_pretrain_data_cli.cpp.

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "ntks/corpora/pretrain_corpus.h"
#include "ntks/util/error.h"
#include "test_util.h"

namespace {

namespace cp = ntks::corpora;
using ntks::testing::error_of;
using ntks::testing::TempDir;

const std::string kCorpusData = std::string(NTKS_SOURCE_DIR) + "/tests/data";

cp::PretrainOptions fixture_options() {
  cp::PretrainOptions opt;
  opt.sources = {"fortunes", "devil", "gcide", "wordnet"};  // read in the fixed order whatever this one
  opt.wordnet_dir = kCorpusData + "/wordnet";
  opt.dictd_dir = kCorpusData + "/dictd";
  opt.fortunes_dir = kCorpusData + "/fortunes";
  return opt;
}

std::string jsonl(const cp::PretrainCorpus& c) {
  std::string s;
  for (const cp::Document& d : c.documents) s += cp::document_json_line(d);
  return s;
}

const cp::SourceCount& source_count(const cp::PretrainCorpus& c, const std::string& source) {
  for (const auto& x : c.counts)
    if (x.source == source) return x;
  ADD_FAILURE() << "no count for " << source;
  return c.counts.front();
}

bool has_id(const cp::PretrainCorpus& c, const std::string& id) {
  return std::any_of(c.documents.begin(), c.documents.end(), [&](const cp::Document& d) { return d.id == id; });
}

TEST(PretrainCorpus, ReadsEverySourceDeterministically) {
  const cp::PretrainCorpus c = cp::build_pretrain_corpus(fixture_options());
  ASSERT_EQ(c.counts.size(), 4u);
  EXPECT_EQ(c.counts[0].source, "wordnet");
  EXPECT_EQ(c.counts[3].source, "fortunes");
  EXPECT_EQ(source_count(c, "wordnet").documents, 24u);
  EXPECT_EQ(source_count(c, "gcide").documents, 4u);
  EXPECT_EQ(source_count(c, "gcide").empty, 1u);  // afebrile: WordNet senses only
  EXPECT_EQ(source_count(c, "devil").documents, 2u);
  EXPECT_EQ(source_count(c, "fortunes").documents, 4u);
  EXPECT_EQ(c.documents.size(), 34u);
  uint64_t bytes = 0;
  for (const auto& x : c.counts) bytes += x.bytes;
  uint64_t text = 0;
  for (const auto& d : c.documents) text += d.text.size();
  EXPECT_EQ(bytes, text);
  EXPECT_TRUE(has_id(c, "wordnet:n00000600"));
  EXPECT_TRUE(has_id(c, "gcide:Fever"));
  EXPECT_TRUE(has_id(c, "devil:lawyer"));
  EXPECT_TRUE(has_id(c, "fortunes:zen:1"));

  EXPECT_EQ(jsonl(cp::build_pretrain_corpus(fixture_options())), jsonl(c));  // same inputs, same bytes
  cp::PretrainOptions other = fixture_options();
  other.seed = 2;
  const cp::PretrainCorpus d = cp::build_pretrain_corpus(other);
  EXPECT_NE(jsonl(d), jsonl(c));
  std::set<std::string> a, b;
  for (const auto& x : c.documents) a.insert(x.source);
  for (const auto& x : d.documents) b.insert(x.source);
  EXPECT_EQ(a, b);
  EXPECT_EQ(d.documents.size(), c.documents.size());

  const std::string line = cp::document_json_line(cp::Document{"devil:x", "devil", "a \"b\"\nc"});
  EXPECT_EQ(line, "{\"id\":\"devil:x\",\"source\":\"devil\",\"text\":\"a \\\"b\\\"\\nc\"}\n");
}

TEST(PretrainCorpus, ExcludesSamplesTheirSynsetsAndGlosses) {
  TempDir dir;
  const std::string held_out = dir.write(
      "held_out.jsonl",
      "{\"id\": \"wn-n00000400-define\", \"instruction\": \"What does the noun 'surgery' mean?\", \"input\": \"\", "
      "\"output\": \"'surgery' (noun) means: the branch of medical science.\"}\n"
      "\n"
      "{\"id\": \"x1\", \"instruction\": \"Finish the sentence.\", \"output\": \"A fever of 103 is no joke, said the "
      "doctor.\"}\n");
  cp::PretrainOptions opt = fixture_options();
  opt.exclude = {held_out};
  const cp::PretrainCorpus c = cp::build_pretrain_corpus(opt);
  EXPECT_EQ(c.excluded.samples, 2u);
  ASSERT_EQ(c.excluded.synsets.size(), 1u);
  EXPECT_EQ(c.excluded.synsets[0].where, held_out + ":1");
  // The synset itself; GCIDE's entry holding its gloss over two lines; the
  // fortune that is a sample's output.
  EXPECT_FALSE(has_id(c, "wordnet:n00000400"));
  EXPECT_EQ(source_count(c, "wordnet").excluded, 1u);
  EXPECT_FALSE(has_id(c, "gcide:Surgery"));
  EXPECT_EQ(source_count(c, "gcide").excluded, 1u);
  EXPECT_FALSE(has_id(c, "fortunes:wisdom:1"));
  EXPECT_EQ(source_count(c, "fortunes").excluded, 1u);
  EXPECT_EQ(c.documents.size(), 31u);
  for (const auto& d : c.documents) {
    EXPECT_EQ(d.text.find("the branch of medical science that treats disease"), std::string::npos) << d.id;
    EXPECT_EQ(d.text.find("A fever of 103 is no joke"), std::string::npos) << d.id;
  }
}

TEST(PretrainCorpus, DuplicatesAndTheByteCap) {
  TempDir dir;
  dir.write("a", "The same text, twice.\n%\nOnce.\n");
  dir.write("b", "The same text, twice.\n");
  cp::PretrainOptions opt = fixture_options();
  opt.sources = {"fortunes"};
  opt.fortunes_dir = dir.path().string();
  const cp::PretrainCorpus c = cp::build_pretrain_corpus(opt);
  EXPECT_EQ(c.documents.size(), 2u);
  EXPECT_EQ(source_count(c, "fortunes").duplicate, 1u);
  EXPECT_FALSE(has_id(c, "fortunes:b:1"));  // the first one is kept

  cp::PretrainOptions all = fixture_options();
  const cp::PretrainCorpus whole = cp::build_pretrain_corpus(all);
  all.max_bytes = whole.documents[0].text.size() + whole.documents[1].text.size() + whole.documents[2].text.size();
  const cp::PretrainCorpus capped = cp::build_pretrain_corpus(all);
  ASSERT_EQ(capped.documents.size(), 3u);  // a prefix of the same shuffle
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(capped.documents[i].id, whole.documents[i].id);
  size_t n_capped = 0;
  for (const auto& x : capped.counts) n_capped += x.capped;
  EXPECT_EQ(n_capped, whole.documents.size() - 3);
}

TEST(PretrainCorpus, BadInputAndEmptyCorpora) {
  TempDir dir;
  cp::PretrainOptions opt = fixture_options();
  opt.sources = {"wordnet", "gcid"};
  std::string msg = error_of<ntks::UsageError>([&] { cp::build_pretrain_corpus(opt); });
  EXPECT_NE(msg.find("unknown source 'gcid' (nearest: 'gcide')"), std::string::npos) << msg;
  opt.sources = {};
  msg = error_of<ntks::UsageError>([&] { cp::build_pretrain_corpus(opt); });
  EXPECT_NE(msg.find("--sources is empty"), std::string::npos) << msg;

  opt = fixture_options();
  opt.sources = cp::pretrain_sources();  // the fixture has no Jargon File
  msg = error_of<ntks::InputError>([&] { cp::build_pretrain_corpus(opt); });
  EXPECT_NE(msg.find("/tests/data/dictd/jargon.index is missing (Debian: apt-get install dict-jargon"),
            std::string::npos)
      << msg;

  opt = fixture_options();
  opt.max_bytes = 1;
  msg = error_of<ntks::InputError>([&] { cp::build_pretrain_corpus(opt); });
  EXPECT_NE(msg.find("the corpus has no documents: --max-bytes 1 is below the size of the first one"),
            std::string::npos)
      << msg;
  opt = fixture_options();
  opt.sources = {"devil"};
  opt.exclude = {dir.write("both.jsonl",
                           "{\"output\": \"ABASEMENT, n.  A decent and customary\"}\n"
                           "{\"text\": \"LAWYER, n.  One skilled in circumvention\"}\n")};
  msg = error_of<ntks::InputError>([&] { cp::build_pretrain_corpus(opt); });
  EXPECT_NE(msg.find("the corpus has no documents: every document of --sources was excluded"), std::string::npos)
      << msg;

  struct Case {
    std::string path, says;
  };
  std::filesystem::create_directories(dir.file("empty_dir"));
  const std::vector<Case> cases = {
      {dir.file("none.jsonl"), "--exclude " + dir.file("none.jsonl") + ": no such file or folder"},
      {dir.file("empty_dir"), "a folder without domain.jsonl, pool.jsonl or test.jsonl"},
      {dir.write("bad.jsonl", "{\"id\": \"a\"}\n{not json\n"), dir.file("bad.jsonl") + ":2: not JSON"},
      {dir.write("list.jsonl", "[1, 2]\n"), dir.file("list.jsonl") + ":1: not a JSON object"},
      {dir.write("foreign.jsonl", "{\"id\": \"wn-n99999999-define\"}\n"),
       dir.file("foreign.jsonl") + ":1: the sample's id names WordNet synset n99999999, which"},
  };
  for (const Case& c : cases) {
    opt = fixture_options();
    opt.exclude = {c.path};
    msg = error_of<ntks::InputError>([&] { cp::build_pretrain_corpus(opt); });
    EXPECT_NE(msg.find(c.says), std::string::npos) << msg;
  }
}

}  // namespace
