// The tokenizer on a tiny hand-made tokenizer.json (tests/tokenizer/
// tiny_tokenizer.json), no network: merge order, ignore_merges, added tokens
// (longest match, single_word, lstrip/rstrip), NFC, the template
// post-processor, decoding and the errors. Expected ids come from HF's
// tokenizers 0.23.2 on the same file.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "ntks/tokenizer/tokenizer.h"
#include "ntks/util/error.h"
#include "test_util.h"

using ntks::InputError;
using ntks::testing::error_of;
using ntks::testing::TempDir;
using ntks::tokenizer::Tokenizer;
using Ids = std::vector<int32_t>;

namespace {

const std::string kTiny = std::string(NTKS_SOURCE_DIR) + "/tests/tokenizer/tiny_tokenizer.json";

std::string tiny_text() {
  std::ifstream in(kTiny, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

TEST(TokenizerFixture, MergesByRankThenLeftmost) {
  const Tokenizer t = Tokenizer::load(kTiny);
  EXPECT_EQ(t.encode("abc", false), (Ids{5}));
  EXPECT_EQ(t.encode("bcab", false), (Ids{6, 4}));
  EXPECT_EQ(t.encode(" abc", false), (Ids{3, 5}));  // "a b" outranks "Ġ a"
  EXPECT_EQ(t.encode("cab!", false), (Ids{2, 4, 11}));
  EXPECT_EQ(t.encode("", false), Ids{});
}

TEST(TokenizerFixture, IgnoreMergesEmitsVocabularyWordsWhole) {
  EXPECT_EQ(Tokenizer::load(kTiny).encode("ca", false), (Ids{8}));
  const Tokenizer merged = Tokenizer::from_json(
      replaced(tiny_text(), "\"ignore_merges\": true", "\"ignore_merges\": false"), "tiny");
  EXPECT_EQ(merged.encode("ca", false), (Ids{2, 0}));
}

TEST(TokenizerFixture, AddedTokens) {
  const Tokenizer t = Tokenizer::load(kTiny);
  EXPECT_EQ(t.encode("<x>abc<x>", false), (Ids{15, 5, 15}));
  EXPECT_EQ(t.encode("<x>>", false), (Ids{16}));           // longest match
  EXPECT_EQ(t.encode("hi abc", false), (Ids{17, 3, 5}));   // single_word
  EXPECT_EQ(t.encode("ahi", false), (Ids{0, 9, 10}));      // not a single word
  EXPECT_EQ(t.encode("a <s> b", false), (Ids{0, 18, 1}));  // lstrip, rstrip
  EXPECT_EQ(t.token_id("<x>"), 15);
  EXPECT_EQ(t.token_id("abc"), 5);
  EXPECT_EQ(t.token_id("nope"), -1);
}

TEST(TokenizerFixture, NfcAndTemplate) {
  const Tokenizer t = Tokenizer::load(kTiny);
  EXPECT_EQ(t.encode("e\xCC\x81", false), (Ids{14}));
  EXPECT_EQ(t.encode("\xC3\xA9", false), (Ids{14}));
  EXPECT_EQ(t.encode("abc", true), (Ids{15, 5}));
  EXPECT_EQ(t.encode("", true), (Ids{15}));
}

TEST(TokenizerFixture, Decode) {
  const Tokenizer t = Tokenizer::load(kTiny);
  EXPECT_EQ(t.decode({3, 5, 15, 14}), " abc<x>\xC3\xA9");
  EXPECT_EQ(t.decode({3, 5, 15, 14}, true), " abc\xC3\xA9");
  EXPECT_EQ(t.decode({12}), "\xEF\xBF\xBD");  // a lone lead byte
  EXPECT_NE(error_of<InputError>([&] { t.decode({99}); }).find("99"), std::string::npos);
}

TEST(TokenizerFixture, InvalidUtf8IsAnInputError) {
  const Tokenizer t = Tokenizer::load(kTiny);
  for (const std::string bad : {"\xFF", "ab\xE2\x82", "\xC0\xAF", "\xED\xA0\x80", "a\x80"})
    EXPECT_NE(error_of<InputError>([&] { t.encode(bad); }).find("UTF-8"), std::string::npos);
}

TEST(TokenizerFixture, UnsupportedTypesNameFileAndType) {
  const std::string text = tiny_text();
  struct Case {
    std::string from, to, type;
  };
  const std::vector<Case> cases = {
      {"\"type\": \"BPE\"", "\"type\": \"WordPiece\"", "WordPiece"},
      {"\"type\": \"NFC\"", "\"type\": \"Lowercase\"", "Lowercase"},
      {"\"type\": \"Split\"", "\"type\": \"Whitespace\"", "Whitespace"},
      {"\"behavior\": \"Isolated\"", "\"behavior\": \"Removed\"", "Removed"},
      {"\"type\": \"TemplateProcessing\"", "\"type\": \"RobertaProcessing\"", "RobertaProcessing"},
      {"\"decoder\": {\n  \"type\": \"ByteLevel\"", "\"decoder\": {\n  \"type\": \"Metaspace\"", "Metaspace"},
      {"\"byte_fallback\": false", "\"byte_fallback\": true", "byte_fallback"},
      {"\"ab c\"", "\"ab zz\"", "zz"},
  };
  TempDir dir;
  for (const Case& c : cases) {
    const std::string path = dir.write("tok.json", replaced(text, c.from, c.to));
    const std::string msg = error_of<InputError>([&] { Tokenizer::load(path); });
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find(c.type), std::string::npos) << msg;
  }
  EXPECT_NE(error_of<InputError>([&] { Tokenizer::load(dir.file("missing.json")); }).find("missing.json"),
            std::string::npos);
  const std::string bad_json = dir.write("bad.json", "{\"model\": ");
  EXPECT_NE(error_of<InputError>([&] { Tokenizer::load(bad_json); }).find("bad.json"), std::string::npos);
}

TEST(TokenizerFixture, MergesAsPairsEqualMergesAsStrings) {
  std::string text = tiny_text();
  const Tokenizer strings = Tokenizer::from_json(text, "strings");
  text = replaced(text, "\"a b\"", "[\"a\", \"b\"]");
  text = replaced(text, "\"ab c\"", "[\"ab\", \"c\"]");
  const Tokenizer pairs = Tokenizer::from_json(text, "pairs");
  for (const char* s : {"abc", "bcab", " abc", "cab!"}) EXPECT_EQ(pairs.encode(s), strings.encode(s)) << s;
}

}  // namespace

namespace {

TEST(TokenizerCli, TokenizeWritesIdsInOrderAndNamesTheBadLine) {
  TempDir dir;
  const std::string in = dir.write("in.jsonl",
                                   "{\"text\": \"abc\"}\n"
                                   "{\"text\": \"bcab\", \"add_special_tokens\": false}\n"
                                   "\n"
                                   "{\"text\": \"<x>ca\", \"add_special_tokens\": true}\n");
  auto r = ntks::testing::run_command(std::string(NTKS_BINARY) + " tokenize --tokenizer " + kTiny + " < " + in +
                                      " 2>/dev/null");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "{\"ids\":[15,5]}\n{\"ids\":[6,4]}\n{\"ids\":[15,15,8]}\n");
  const std::string bad = dir.write("bad.jsonl", "{\"text\": \"a\"}\n{\"text\": \"\xFF\"}\n");
  r = ntks::testing::run_command(std::string(NTKS_BINARY) + " tokenize --tokenizer " + kTiny + " < " + bad);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("stdin:2"), std::string::npos) << r.output;
  const std::string no_text = dir.write("no_text.jsonl", "{\"txt\": \"a\"}\n");
  r = ntks::testing::run_command(std::string(NTKS_BINARY) + " tokenize --tokenizer " + kTiny + " < " + no_text);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("stdin:1"), std::string::npos) << r.output;
}

}  // namespace
