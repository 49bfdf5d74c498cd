// The tokenizer on a tiny hand-made tokenizer.json (tests/tokenizer/
// tiny_tokenizer.json), no network: merge order, ignore_merges, added tokens
// (longest match, single_word, lstrip/rstrip), NFC, the template
// post-processor, decoding and the errors. Expected ids come from HF's
// tokenizers 0.23.2 on the same file.

#include <gtest/gtest.h>

#include <utf8proc.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

#include "ntks/tokenizer/tokenizer.h"
#include "ntks/util/files.h"
#include "ntks/util/error.h"
#include "test_util.h"
#include "tokenizer/parts.h"

using ntks::InputError;
using ntks::testing::error_of;
using ntks::testing::TempDir;
using ntks::tokenizer::Tokenizer;
using Ids = std::vector<int32_t>;

namespace {

const std::string kTiny = std::string(NTKS_SOURCE_DIR) + "/tests/tokenizer/tiny_tokenizer.json";

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
      replaced(ntks::read_file(kTiny), "\"ignore_merges\": true", "\"ignore_merges\": false"), "tiny");
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
  const std::string text = ntks::read_file(kTiny);
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
  std::string text = ntks::read_file(kTiny);
  const Tokenizer strings = Tokenizer::from_json(text, "strings");
  text = replaced(text, "\"a b\"", "[\"a\", \"b\"]");
  text = replaced(text, "\"ab c\"", "[\"ab\", \"c\"]");
  const Tokenizer pairs = Tokenizer::from_json(text, "pairs");
  for (const char* s : {"abc", "bcab", " abc", "cab!"}) EXPECT_EQ(pairs.encode(s), strings.encode(s)) << s;
}

// The two merge loops of Bpe::merge (quadratic scan for short words, heap for
// long ones) on random merge tables and words: same symbols, every time.
TEST(TokenizerFixture, HeapMergeEqualsScanMerge) {
  std::mt19937 rng(7);
  for (int table = 0; table < 20; ++table) {
    ntks::tokenizer::detail::Bpe bpe;
    const int32_t alphabet = 2 + table % 5;
    int32_t next_id = alphabet;
    for (int32_t rank = 0; rank < 60; ++rank) {
      const int32_t a = static_cast<int32_t>(rng() % static_cast<uint32_t>(next_id));
      const int32_t b = static_cast<int32_t>(rng() % static_cast<uint32_t>(next_id));
      const uint64_t key = ntks::tokenizer::detail::PairMap::pair_key(a, b);
      if (bpe.merges.emplace(key, std::make_pair(rank, next_id)).second) ++next_id;
    }
    bpe.prepare();
    ntks::tokenizer::detail::Bpe::Scratch scratch;
    for (int w = 0; w < 300; ++w) {
      std::vector<int32_t> word(1 + rng() % 150);
      for (auto& x : word) x = static_cast<int32_t>(rng() % static_cast<uint32_t>(alphabet));
      std::vector<int32_t> scan = word, heap = word;
      bpe.merge(scan, scratch, false);
      bpe.merge(heap, scratch, true);
      ASSERT_EQ(heap, scan) << "table " << table << " word " << w;
    }
  }
}

std::string utf8_of(char32_t cp) {
  utf8proc_uint8_t buf[4];
  const auto n = utf8proc_encode_char(static_cast<utf8proc_int32_t>(cp), buf);
  return std::string(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
}

std::string hex_of(const std::string& s) {
  std::string out;
  for (unsigned char c : s) out += fmt::format("{:02X} ", c);
  return out;
}

std::string utf8proc_nfc(const std::string& s) {
  utf8proc_uint8_t* out = utf8proc_NFC(reinterpret_cast<const utf8proc_uint8_t*>(s.c_str()));
  std::string r(reinterpret_cast<const char*>(out));
  std::free(out);
  return r;
}

// nfc() skips utf8proc over "inert" chars and cuts the text before them; that
// is exact only if each of them has combining class 0, is its own NFC, and
// neither it nor the first char of its decomposition is ever a later char of
// a canonical decomposition (so it never composes with what precedes it).
TEST(TokenizerFixture, NfcInertCharsNeverInteract) {
  using ntks::tokenizer::detail::nfc_inert;
  std::vector<char> later(0x110000, 0);
  utf8proc_int32_t buf[32];
  int boundclass = 0;
  for (utf8proc_int32_t cp = 0; cp < 0x110000; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    const auto n = utf8proc_decompose_char(cp, buf, 32, UTF8PROC_DECOMPOSE, &boundclass);
    for (utf8proc_ssize_t i = 1; i < n; ++i) later[static_cast<size_t>(buf[i])] = 1;
  }
  size_t inert = 0;
  for (utf8proc_int32_t cp = 0; cp < 0x110000; ++cp) {
    if ((cp >= 0xD800 && cp <= 0xDFFF) || !nfc_inert(static_cast<char32_t>(cp))) continue;
    ++inert;
    ASSERT_EQ(utf8proc_get_property(cp)->combining_class, 0) << std::hex << cp;
    ASSERT_FALSE(later[static_cast<size_t>(cp)]) << std::hex << cp;
    utf8proc_decompose_char(cp, buf, 32, UTF8PROC_DECOMPOSE, &boundclass);
    ASSERT_EQ(utf8proc_get_property(buf[0])->combining_class, 0) << std::hex << cp;
    ASSERT_FALSE(later[static_cast<size_t>(buf[0])]) << std::hex << cp;
    const std::string c = utf8_of(static_cast<char32_t>(cp));
    if (cp > 0) {  // utf8proc_NFC stops at NUL
      ASSERT_EQ(utf8proc_nfc(c), c) << std::hex << cp;
    }
  }
  EXPECT_GT(inert, 30000u);  // the ranges are not empty by mistake
}

// nfc() on random mixes of inert chars and chars that compose, reorder or
// decompose (accents, Hangul jamo, kana voicing marks, singletons, Indic
// vowel signs) equals utf8proc's NFC of the whole text.
TEST(TokenizerFixture, NfcInPiecesEqualsNfcOfTheWhole) {
  const std::vector<char32_t> pool = {
      'a', 'e', 'o', ' ', 'A', 0xE9, 0x301, 0x308, 0x327, 0x323, 0x1100, 0x1161, 0x11A8, 0xAC00, 0xAC01,
      0x304B, 0x3099, 0x309A, 0x30AB, 0x2126, 0x212B, 0x374, 0x37E, 0xF900, 0x4E00, 0xB47, 0xB3E, 0xB57,
      0x1F600, 0x200D, 0xFE0F, 0x41F, 0x418, 0x306, 0x627, 0x653, 0x654, 0x5D0, 0x5B7, 0x1E0B, 0x1E63};
  std::mt19937 rng(11);
  for (int n = 0; n < 5000; ++n) {
    std::string text;
    for (size_t len = rng() % 12; len > 0; --len) text += utf8_of(pool[rng() % pool.size()]);
    ASSERT_EQ(ntks::tokenizer::detail::nfc(text), utf8proc_nfc(text)) << hex_of(text);
  }
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
