// SampleReader: corpus lines to samples with the bad-input policy
// (data.on_error, data.overlong) — every line either becomes a sample or is
// counted and written to the skip log with its place and reason.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "byte_tokenizer.h"
#include "ntks/data/chat_template.h"
#include "ntks/data/record.h"
#include "ntks/data/sample_reader.h"
#include "ntks/util/files.h"
#include "ntks/util/strings.h"
#include "test_util.h"
#include "jsonl_file.h"

using ntks::testing::read_jsonl;

namespace {

using namespace ntks;
using ntks::testing::TempDir;

// Lines 1..9 of the corpus: five good, four bad in different ways.
const char* const kCorpus =
    R"({"instruction": "Name a color", "output": "Blue", "id": "c1"})"
    "\n"
    R"({"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]})"
    "\n"
    R"({"instruction": "broken", "output": )"
    "\n"
    "\n"  // a blank line is not a record
    R"({"prompt": "2+2?", "response": "4", "id": 17})"
    "\n"
    "{\"prompt\": \"bad \xC3\x28 bytes\", \"response\": \"x\"}\n"
    R"({"ids": [1, 2, 3], "response_mask": [0, 1, 1]})"
    "\n"
    R"({"instruction": "Q", "output": ""})"
    "\n"
    R"({"ids": [1, 999], "response_mask": [0, 1]})"
    "\n";

struct ReaderFixture {
  TempDir dir;
  std::string corpus = dir.write("corpus.jsonl", kCorpus);
  tokenizer::Tokenizer tok = ntks::testing::byte_tokenizer();
  config::Config cfg;
  ReaderFixture() {
    cfg.model.chat_template = config::Template::qwen3;
    cfg.data.on_error = config::OnError::skip;
  }
  data::CorpusIndex index() const { return data::CorpusIndex::open({corpus}); }
};

TEST(SampleReader, SkipModeDeliversGoodLinesAndLogsEveryBadOne) {
  ReaderFixture f;
  const auto index = f.index();
  ASSERT_EQ(index.size(), 8);  // nine lines, one blank
  data::SkipLog skip(f.dir.file("skipped.jsonl"));
  data::SampleReader reader(index, f.cfg, f.tok, &skip);
  std::vector<data::Sample> got;
  reader.read(data::Range{0, index.size()}, [&](data::Sample&& s) { got.push_back(std::move(s)); });
  skip.close();

  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].id, "c1");
  EXPECT_EQ(got[1].id, f.corpus + ":2");  // no id field: path:line
  EXPECT_EQ(got[2].id, "17");
  EXPECT_EQ(got[2].index, 3);
  EXPECT_EQ(got[3].ids, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(got[3].response_mask, (std::vector<uint8_t>{0, 1, 1}));

  // Chat samples are exactly what tokenize_chat gives, keyed by the record's hash.
  const auto rec = data::parse_record(index.read(0), f.cfg.data);
  const auto expect = data::tokenize_chat(f.tok, config::Template::qwen3, rec.messages);
  EXPECT_EQ(got[0].ids, expect.ids);
  EXPECT_EQ(got[0].response_mask, expect.response_mask);
  EXPECT_EQ(got[0].content_hash, data::content_hash(rec));

  const data::ReadStats& s = reader.stats();
  EXPECT_EQ(s.records, 8);
  EXPECT_EQ(s.samples, 4);
  EXPECT_EQ(s.skipped, 4);
  EXPECT_EQ(s.dropped, 0);
  EXPECT_EQ(s.reasons, (std::map<std::string, int64_t>{{"json", 1}, {"utf8", 1}, {"empty_response", 1}, {"tokens", 1}}));
  int64_t tokens = 0;
  for (const auto& g : got) tokens += static_cast<int64_t>(g.ids.size());
  EXPECT_EQ(s.tokens, tokens);
  EXPECT_EQ(s.summary(), fmt::format("8 records: 4 samples, {} tokens, 4 skipped [1 empty_response, 1 json, 1 tokens, 1 utf8]", tokens));

  const auto log = read_jsonl(f.dir.file("skipped.jsonl"));
  ASSERT_EQ(log.size(), 4u);
  EXPECT_EQ(log[0]["file"], f.corpus);
  EXPECT_EQ(log[0]["line"], 3);
  EXPECT_EQ(log[0]["index"], 2);
  EXPECT_EQ(log[0]["reason"], "json");
  EXPECT_EQ(log[0]["text"], R"({"instruction": "broken", "output": )");
  EXPECT_EQ(log[1]["line"], 6);
  EXPECT_EQ(log[1]["reason"], "utf8");
  EXPECT_EQ(log[1]["invalid_utf8"], true);
  EXPECT_NE(log[1]["text"].get<std::string>().find("\xEF\xBF\xBD"), std::string::npos);
  EXPECT_EQ(log[2]["line"], 8);
  EXPECT_EQ(log[3]["line"], 9);
  EXPECT_NE(log[3]["message"].get<std::string>().find("ids[1] = 999 is not below the vocabulary size"),
            std::string::npos);
  // The offset points at the line in the corpus.
  const std::string text = read_file(f.corpus);
  EXPECT_EQ(text.substr(log[0]["offset"].get<size_t>(), 15), R"({"instruction":)");
  EXPECT_FALSE(std::filesystem::exists(f.dir.file("skipped.jsonl.partial")));
}

TEST(SampleReader, FailModeNamesFileLineAndProblem) {
  ReaderFixture f;
  f.cfg.data.on_error = config::OnError::fail;
  const auto index = f.index();
  data::SampleReader reader(index, f.cfg, f.tok, nullptr);
  int delivered = 0;
  const std::string msg = ntks::testing::error_of<InputError>(
      [&] { reader.read(data::Range{0, index.size()}, [&](data::Sample&&) { ++delivered; }); });
  EXPECT_EQ(delivered, 2);
  EXPECT_NE(msg.find(f.corpus + ":3: not valid JSON"), std::string::npos) << msg;
  EXPECT_NE(msg.find("data.on_error: skip"), std::string::npos) << msg;
}

TEST(SampleReader, OverlongIsTruncatedOrDroppedAndAlwaysCounted) {
  ReaderFixture f;
  // prompt of 40 bytes, response of 30: with the byte tokenizer every byte is a token
  const std::string prompt(40, 'p'), response(30, 'r');
  f.corpus = f.dir.write("long.jsonl", fmt::format(R"({{"prompt": "{}", "response": "{}"}})"
                                                   "\n"
                                                   R"({{"prompt": "{}", "response": "short"}})"
                                                   "\n",
                                                   prompt, response, std::string(200, 'q')));
  const auto index = f.index();
  const size_t full = data::tokenize_chat(f.tok, config::Template::qwen3,
                                          {{"user", prompt}, {"assistant", response}})
                          .ids.size();
  f.cfg.model.max_seq_len = static_cast<int64_t>(full) - 10;

  {  // truncate (default): the first max_seq_len tokens; a sample with no response left is dropped
    data::SkipLog skip(f.dir.file("skip-truncate.jsonl"));
    data::SampleReader reader(index, f.cfg, f.tok, &skip);
    std::vector<data::Sample> got;
    reader.read(data::Range{0, 2}, [&](data::Sample&& s) { got.push_back(std::move(s)); });
    skip.close();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_TRUE(got[0].truncated);
    EXPECT_EQ(got[0].source_tokens, static_cast<int64_t>(full));
    EXPECT_EQ(got[0].ids.size(), full - 10);
    EXPECT_EQ(got[0].response_mask.size(), full - 10);
    EXPECT_EQ(reader.stats().truncated, 1);
    EXPECT_EQ(reader.stats().dropped, 1);
    EXPECT_EQ(reader.stats().reasons.at("overlong_prompt"), 1);
    const auto log = read_jsonl(f.dir.file("skip-truncate.jsonl"));
    ASSERT_EQ(log.size(), 1u);
    EXPECT_EQ(log[0]["line"], 2);
  }
  {  // drop
    f.cfg.data.overlong = config::Overlong::drop;
    data::SkipLog skip(f.dir.file("skip-drop.jsonl"));
    data::SampleReader reader(index, f.cfg, f.tok, &skip);
    int n = 0;
    reader.read(data::Range{0, 2}, [&](data::Sample&&) { ++n; });
    skip.close();
    EXPECT_EQ(n, 0);
    EXPECT_EQ(reader.stats().dropped, 2);
    EXPECT_EQ(reader.stats().reasons.at("overlong"), 2);
    const auto log = read_jsonl(f.dir.file("skip-drop.jsonl"));
    ASSERT_EQ(log.size(), 2u);
    EXPECT_NE(log[0]["message"].get<std::string>().find("over model.max_seq_len"), std::string::npos);
  }
}

TEST(SampleReader, ReadsAListOfIndicesInTheGivenOrder) {
  ReaderFixture f;
  const auto index = f.index();
  data::SampleReader reader(index, f.cfg, f.tok, nullptr);
  std::vector<int64_t> got;
  reader.read(std::vector<int64_t>{6, 0, 3}, [&](data::Sample&& s) { got.push_back(s.index); });
  EXPECT_EQ(got, (std::vector<int64_t>{0, 3}));  // 6 is the empty-response line, skipped
  EXPECT_EQ(reader.stats().records, 3);
}

TEST(SampleReader, UnclosedSkipLogLeavesNoFile) {
  TempDir dir;
  {
    data::SkipLog skip(dir.file("s.jsonl"));
    skip.add(0, "f", 1, 0, "json", "bad", "x");
    EXPECT_TRUE(std::filesystem::exists(dir.file("s.jsonl.partial")));
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("s.jsonl")));
  EXPECT_FALSE(std::filesystem::exists(dir.file("s.jsonl.partial")));
}

TEST(SampleReader, SkipLogResumeKeepsOnlyCommittedEntries) {
  TempDir dir;
  const std::string path = dir.file("s.jsonl");
  {
    data::SkipLog skip(path);
    for (int64_t i : {1, 4, 9, 12}) skip.add(i, "f", static_cast<uint64_t>(i + 1), 0, "json", "bad", "x");
    skip.flush();
    // a kill mid-write leaves half a line behind
    std::FILE* f = std::fopen((path + ".partial").c_str(), "ab");
    std::fputs("{\"index\": 3, \"fi", f);
    std::fclose(f);
    std::rename((path + ".partial").c_str(), (path + ".keep").c_str());
  }  // the destructor removes .partial as an unclosed log does; restore what a kill leaves
  std::rename((path + ".keep").c_str(), (path + ".partial").c_str());
  auto resumed = data::SkipLog::resume(path, 9);
  EXPECT_EQ(resumed->count(), 2);
  resumed->add(10, "f", 11, 0, "utf8", "bad", "y");
  resumed->close();
  const auto log = read_jsonl(path);
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0]["index"], 1);
  EXPECT_EQ(log[1]["index"], 4);
  EXPECT_EQ(log[2]["index"], 10);
  // no partial file: a fresh log
  auto fresh = data::SkipLog::resume(dir.file("new.jsonl"), 100);
  EXPECT_EQ(fresh->count(), 0);
  fresh->close();
  EXPECT_TRUE(read_jsonl(dir.file("new.jsonl")).empty());
}

TEST(SampleReader, TemplateAutoFollowsTheTokenizer) {
  ReaderFixture f;
  f.cfg.model.chat_template = config::Template::auto_;
  const auto index = f.index();
  data::SampleReader reader(index, f.cfg, f.tok, nullptr);
  EXPECT_EQ(reader.chat_template(), config::Template::qwen3);  // the byte tokenizer has <|im_start|>
}

}  // namespace
