// Pretraining data (train/packing.h): documents joined by the end-of-text
// token into fixed-length sequences, a held-out split that depends only on
// each document, and errors that name file:line.

#include <gtest/gtest.h>

#include <fmt/format.h>
#include <xxhash.h>

#include <nlohmann/json.hpp>

#include "byte_tokenizer.h"
#include "ntks/train/packing.h"
#include "ntks/util/error.h"
#include "test_util.h"

namespace {

using ntks::InputError;
using ntks::testing::error_of;
using ntks::testing::TempDir;

std::string doc_line(const std::string& text) { return nlohmann::json{{"text", text}}.dump() + "\n"; }

ntks::train::PackOptions options(int64_t seq_len, double eval_share, int64_t eval_sequences = 100) {
  ntks::train::PackOptions o;
  o.seq_len = seq_len;
  o.eval_share = eval_share;
  o.eval_sequences = eval_sequences;
  return o;
}

TEST(PretrainPacking, DocumentsAreJoinedByEndOfTextAndCutIntoSequences) {
  TempDir dir;
  const auto tok = ntks::testing::byte_tokenizer();
  const int32_t eot = tok.token_id("<|endoftext|>");
  // 3 + 1, 5 + 1, 1 + 1 tokens, a blank line and an empty text: 12 tokens, 2 sequences of 5 and 2 dropped.
  const std::string f = dir.write("c.jsonl", doc_line("abc") + doc_line("hello") + "  \n" + doc_line("") + doc_line("x"));
  const auto c = ntks::train::pack_corpus({f}, tok, "tok", options(5, 0));
  EXPECT_EQ(c.documents, 3);
  EXPECT_EQ(c.blank_lines, 1);
  EXPECT_EQ(c.empty_texts, 1);
  EXPECT_EQ(c.bytes, 9);
  EXPECT_EQ(c.train_tokens, 12);
  EXPECT_EQ(c.dropped_tokens, 2);
  ASSERT_EQ(c.train.size(), 2u);
  EXPECT_TRUE(c.eval.empty());
  const std::vector<int32_t> first = {'a', 'b', 'c', eot, 'h'};
  const std::vector<int32_t> second = {'e', 'l', 'l', 'o', eot};
  EXPECT_EQ(c.train[0].ids, first);
  EXPECT_EQ(c.train[1].ids, second);
  EXPECT_EQ(c.train[1].id, "train:1");
  EXPECT_EQ(c.train[0].response_mask, std::vector<uint8_t>(5, 1));
}

TEST(PretrainPacking, TheHeldOutSplitFollowsEachDocumentsHash) {
  TempDir dir;
  const auto tok = ntks::testing::byte_tokenizer();
  std::string forward, backward;
  std::vector<std::string> texts;
  for (int i = 0; i < 400; ++i) texts.push_back(fmt::format("document number {} says {}", i, i * 37 % 101));
  for (const auto& t : texts) forward += doc_line(t);
  for (auto it = texts.rbegin(); it != texts.rend(); ++it) backward += doc_line(*it);
  const double share = 0.25;
  int64_t expected = 0;
  for (const auto& t : texts) expected += XXH3_64bits(t.data(), t.size()) % 1000000 < share * 1e6 ? 1 : 0;
  const auto a = ntks::train::pack_corpus({dir.write("a.jsonl", forward)}, tok, "tok", options(16, share, 10000));
  const auto b = ntks::train::pack_corpus({dir.write("b.jsonl", backward)}, tok, "tok", options(16, share, 10000));
  EXPECT_EQ(a.eval_documents, expected);
  EXPECT_GT(expected, 60);
  EXPECT_LT(expected, 140);
  // Same documents held out whatever the order: same held-out token count.
  EXPECT_EQ(a.eval_documents, b.eval_documents);
  EXPECT_EQ(a.eval_tokens, b.eval_tokens);
  EXPECT_EQ(a.train_tokens + a.eval_tokens, b.train_tokens + b.eval_tokens);
  // eval_sequences caps what is kept; the rest is counted as dropped.
  const auto capped = ntks::train::pack_corpus({dir.file("a.jsonl")}, tok, "tok", options(16, share, 3));
  EXPECT_EQ(capped.eval.size(), 3u);
  EXPECT_EQ(capped.dropped_tokens, a.dropped_tokens + 16 * (static_cast<int64_t>(a.eval.size()) - 3));
}

TEST(PretrainPacking, BadLinesAndTooLittleTextAreNamed) {
  TempDir dir;
  const auto tok = ntks::testing::byte_tokenizer();
  auto fails = [&](const std::string& body, const ntks::train::PackOptions& o) {
    const std::string f = dir.write("bad.jsonl", body);
    return error_of<InputError>([&] { ntks::train::pack_corpus({f}, tok, "tok", o); });
  };
  std::string e = fails(doc_line("ok") + "{\"text\": 3}\n", options(2, 0));
  EXPECT_NE(e.find("bad.jsonl:2"), std::string::npos) << e;
  EXPECT_NE(e.find("'text'"), std::string::npos) << e;
  e = fails(doc_line("ok") + "not json\n", options(2, 0));
  EXPECT_NE(e.find("bad.jsonl:2: not a JSON line"), std::string::npos) << e;
  e = fails("{\"text\": \"caf\xC3\"}\n", options(2, 0));
  EXPECT_NE(e.find("bad.jsonl:1: not valid UTF-8"), std::string::npos) << e;
  e = fails(doc_line("tiny"), options(64, 0));
  EXPECT_NE(e.find("fewer than one training sequence"), std::string::npos) << e;
  EXPECT_NE(e.find("pretrain.seq_len = 64"), std::string::npos) << e;
  e = fails(doc_line("one document of some length, never held out at a zero share"), options(4, 1e-9));
  EXPECT_NE(e.find("fewer than one held-out sequence"), std::string::npos) << e;
  e = error_of<InputError>([&] { ntks::train::pack_corpus({dir.file("missing.jsonl")}, tok, "tok", options(4, 0)); });
  EXPECT_NE(e.find("missing.jsonl: cannot be read"), std::string::npos) << e;
}

TEST(PretrainPacking, ATokenizerWithoutEndOfTextIsRefused) {
  nlohmann::json j = nlohmann::json::parse(ntks::testing::byte_tokenizer_json());
  auto& added = j["added_tokens"];
  added.erase(added.end() - 1);  // <|endoftext|> is the last added token
  const auto tok = ntks::tokenizer::Tokenizer::from_json(j.dump(), "plain.json");
  const std::string e = error_of<InputError>([&] { ntks::train::end_of_text_id(tok, "plain.json"); });
  EXPECT_NE(e.find("plain.json: the tokenizer has no end-of-text token"), std::string::npos) << e;
}

}  // namespace
