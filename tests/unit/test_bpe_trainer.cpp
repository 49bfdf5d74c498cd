// The BPE trainer: pre-tokenization as the written tokenizer does it,
// hand-worked merges and tie-breaks, agreement with a naive trainer that
// recounts every pair at every step, the same files for any thread count,
// the written tokenizer loaded back (encode/decode, chat template), the
// errors, and the CLI. Parity with HF's own tokenizers and Jinja is
// tests/scripts/bpe_trainer_parity.sh (ctest bpe_trainer_parity).

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "ntks/data/chat_template.h"
#include "ntks/tokenizer/bpe_trainer.h"
#include "ntks/tokenizer/tokenizer.h"
#include "ntks/util/error.h"
#include "ntks/util/files.h"
#include "test_util.h"

using ntks::InputError;
using ntks::UsageError;
using ntks::testing::error_of;
using ntks::testing::TempDir;
using namespace ntks::tokenizer;

namespace {

using StringPairs = std::vector<std::pair<std::string, std::string>>;

BpeTrainerOptions options(int32_t vocab_size, int64_t min_frequency = 2) {
  BpeTrainerOptions o;
  o.vocab_size = vocab_size;
  o.min_frequency = min_frequency;
  o.allow_smaller = true;
  o.threads = 1;
  return o;
}

StringPairs merge_strings(const BpeModel& m) {
  StringPairs out;
  for (const auto& [a, b] : m.merges) out.emplace_back(m.tokens[a], m.tokens[b]);
  return out;
}

std::map<std::string, int64_t> word_map(const WordCounts& c) { return {c.words.begin(), c.words.end()}; }

// Texts of random words over a few syllables: many ties, shared prefixes and
// tokens that two merges spell alike.
std::vector<std::string> random_texts(size_t n, unsigned seed) {
  const char* syllables[] = {"ab", "ba", "ca", "a", "b", "abc", "ra", "ka", "da", "an", "é", "ü", "12", "7"};
  std::mt19937 rng(seed);
  std::vector<std::string> texts;
  for (size_t i = 0; i < n; ++i) {
    std::string t;
    const int words = 1 + static_cast<int>(rng() % 12);
    for (int w = 0; w < words; ++w) {
      if (w) t += rng() % 5 == 0 ? ", " : " ";
      const int parts = 1 + static_cast<int>(rng() % 4);
      for (int p = 0; p < parts; ++p) t += syllables[rng() % (sizeof syllables / sizeof *syllables)];
    }
    texts.push_back(t);
  }
  return texts;
}

// The trainer's rule written the slow way: recount every pair at every step,
// take the most frequent (ties: smallest merged bytes, then left bytes), merge
// it left to right in every word.
StringPairs naive_merges(const WordCounts& counts, size_t new_tokens, int64_t min_frequency) {
  std::vector<std::pair<std::vector<std::string>, int64_t>> words;
  for (const auto& [w, n] : counts.words) {
    std::vector<std::string> symbols;
    for (char c : w) symbols.emplace_back(1, c);
    words.emplace_back(symbols, n);
  }
  std::set<std::string> vocab;
  for (int b = 0; b < 256; ++b) vocab.insert(std::string(1, static_cast<char>(b)));
  StringPairs merges;
  std::set<std::pair<std::string, std::string>> merged;
  size_t added = 0;
  while (added < new_tokens) {
    std::map<std::pair<std::string, std::string>, int64_t> pairs;
    for (const auto& [s, n] : words)
      for (size_t i = 0; i + 1 < s.size(); ++i) pairs[{s[i], s[i + 1]}] += n;
    const std::pair<std::string, std::string>* best = nullptr;
    int64_t best_n = 0;
    for (const auto& [p, n] : pairs) {
      const bool better = n > best_n || (n == best_n && std::make_pair(p.first + p.second, p.first) <
                                                            std::make_pair(best->first + best->second, best->first));
      if (better) best = &p, best_n = n;
    }
    if (!best || best_n < min_frequency) break;
    const auto [a, b] = *best;
    if (vocab.insert(a + b).second) ++added;
    if (merged.insert({a, b}).second) merges.emplace_back(a, b);
    for (auto& [s, n] : words) {
      std::vector<std::string> out;
      for (size_t i = 0; i < s.size();) {
        if (i + 1 < s.size() && s[i] == a && s[i + 1] == b) {
          out.push_back(a + b);
          i += 2;
        } else {
          out.push_back(s[i++]);
        }
      }
      s = out;
    }
  }
  return merges;
}

std::string write_jsonl(const TempDir& dir, const std::string& name, const std::vector<std::string>& texts) {
  std::string body;
  for (const std::string& t : texts) body += nlohmann::json{{"text", t}}.dump() + "\n";
  return dir.write(name, body);
}

TEST(BpeTrainer, PreTokenizesAsTheWrittenTokenizer) {
  // Added tokens are cut out, NFC composes e + U+0301, Llama-3 takes digits
  // in threes, Qwen3 one by one.
  const std::vector<std::string> texts = {"<|im_start|>Cafe\u0301 12345, <think>x</think>"};
  BpeTrainerOptions o = options(300);
  std::map<std::string, int64_t> expected = {{"Café", 1}, {" ", 2}, {"123", 1}, {"45", 1}, {",", 1}, {"x", 1}};
  EXPECT_EQ(word_map(count_texts(texts, o)), expected);
  o.pattern = SplitPattern::qwen3;
  expected = {{"Café", 1}, {" ", 2}, {"1", 1}, {"2", 1}, {"3", 1}, {"4", 1}, {"5", 1}, {",", 1}, {"x", 1}};
  const WordCounts q = count_texts(texts, o);
  EXPECT_EQ(word_map(q), expected);
  EXPECT_EQ(q.pre_tokens, 10);
  EXPECT_EQ(q.documents, 1);
}

TEST(BpeTrainer, HandWorkedMerges) {
  // a a a b d a a a b a c: "aa" occurs 4 times (overlapping); after it, "aa a"
  // and "a b" occur twice each and "aaa" < "ab" wins the tie; then "aaa b".
  // Every pair left occurs once.
  const WordCounts c = count_texts({"aaabdaaabac"}, options(300));
  const BpeModel m = train_bpe(c, options(300));
  EXPECT_EQ(merge_strings(m), (StringPairs{{"a", "a"}, {"aa", "a"}, {"aaa", "b"}}));
  EXPECT_EQ(m.tokens.size(), 259u);
  EXPECT_EQ(m.vocab_size(), 264);
  // With min_frequency 1 the count-1 pairs tie: "aaaba" is the smallest merge.
  const BpeModel all = train_bpe(c, options(265, 1));
  EXPECT_EQ(merge_strings(all).back(), (std::pair<std::string, std::string>{"aaab", "a"}));
}

TEST(BpeTrainer, WordCountsWeighPairsAndTiesGoToTheSmallestBytes) {
  // Words "ab" x1, " ab" x2, " cd" x3: (a,b), (c,d) and (' ',c) occur 3 times;
  // " c" sorts first, then " cd" beats "ab", then "ab", then " ab" (2).
  const WordCounts c = count_texts({"ab ab ab cd cd cd"}, options(300));
  EXPECT_EQ(word_map(c), (std::map<std::string, int64_t>{{"ab", 1}, {" ab", 2}, {" cd", 3}}));
  EXPECT_EQ(merge_strings(train_bpe(c, options(300))),
            (StringPairs{{" ", "c"}, {" c", "d"}, {"a", "b"}, {" ", "ab"}}));
}

TEST(BpeTrainer, AgreesWithANaiveTrainer) {
  for (unsigned seed : {1u, 2u, 3u}) {
    const WordCounts c = count_texts(random_texts(300, seed), options(0));
    const BpeModel m = train_bpe(c, options(256 + 5 + 150));
    EXPECT_EQ(merge_strings(m), naive_merges(c, 150, 2)) << "seed " << seed;
    EXPECT_GT(m.merges.size(), 100u);
  }
}

TEST(BpeTrainer, SameFilesForAnyThreadCount) {
  TempDir dir;
  const std::string a = write_jsonl(dir, "a.jsonl", random_texts(3000, 7));
  const std::string b = write_jsonl(dir, "b.jsonl", random_texts(1000, 8));
  std::string first;
  for (int threads : {1, 2, 3, 8}) {
    BpeTrainerOptions o = options(400);
    o.threads = threads;
    const WordCounts c = count_files({a, b}, o);
    EXPECT_EQ(c.documents, 4000);
    const std::string json = tokenizer_json(train_bpe(c, o));
    if (first.empty()) first = json;
    EXPECT_EQ(json, first) << threads << " threads";
  }
}

TEST(BpeTrainer, WrittenTokenizerLoadsAndRoundTrips) {
  TempDir dir;
  std::vector<std::string> texts = random_texts(2000, 11);
  texts.push_back("aaabdaaabac");
  const std::string corpus = write_jsonl(dir, "corpus.jsonl", texts);
  BpeTrainerOptions o = options(500);
  const TrainSummary s = train_tokenizer({corpus}, dir.file("out"), o);
  EXPECT_EQ(s.vocab_size, 500);
  EXPECT_EQ(s.documents, 2001);
  const Tokenizer tok = Tokenizer::load(dir.file("out/tokenizer.json"));
  EXPECT_EQ(tok.vocab_size(), 500);
  EXPECT_EQ(tok.token_id("<|endoftext|>"), 495);
  EXPECT_EQ(tok.token_id("</think>"), 499);
  EXPECT_EQ(tok.token(0), "!");  // id 0: the byte-level alphabet in code point order
  for (const std::string& t : {texts[0], texts[1], std::string("Grüße, 世界! 🎉 tabs\tand\r\nnewlines  \n"),
                               std::string("<|im_start|>user\nhi<|im_end|>\n<think>\n\n</think>\n\n"),
                               std::string("\x01\x7f bytes")}) {
    EXPECT_EQ(tok.decode(tok.encode(t)), t);
  }
  const std::vector<int32_t> chat = tok.encode("<|im_start|>x<|im_end|>");
  EXPECT_EQ(chat.front(), 496);
  EXPECT_EQ(chat.back(), 497);
  // The tokenizer_config.json a transformers user reads.
  const nlohmann::json cfg = nlohmann::json::parse(ntks::read_file(dir.file("out/tokenizer_config.json")));
  EXPECT_EQ(cfg["eos_token"], "<|im_end|>");
  EXPECT_EQ(cfg["pad_token"], "<|endoftext|>");
  EXPECT_TRUE(cfg["bos_token"].is_null());
  EXPECT_EQ(cfg["chat_template"], chatml_template());
  EXPECT_EQ(cfg["added_tokens_decoder"]["497"]["content"], "<|im_end|>");
  EXPECT_EQ(cfg["added_tokens_decoder"]["498"]["special"], false);
}

TEST(BpeTrainer, ChatTemplateAutoIsQwen3AndTokenizesGoldenChats) {
  TempDir dir;
  const std::string corpus = write_jsonl(dir, "corpus.jsonl", random_texts(500, 5));
  train_tokenizer({corpus}, dir.file("out"), options(400));
  const Tokenizer tok = Tokenizer::load(dir.file("out/tokenizer.json"));
  ASSERT_EQ(ntks::data::resolve_template(ntks::config::Template::auto_, tok), ntks::config::Template::qwen3);
  std::ifstream in(std::string(NTKS_SOURCE_DIR) + "/tests/data/chat_golden/qwen3.jsonl");
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    const nlohmann::json g = nlohmann::json::parse(line);
    std::vector<ntks::data::Message> messages;
    for (const auto& m : g["messages"]) messages.push_back({m["role"], m["content"]});
    const auto sample = ntks::data::tokenize_chat(tok, ntks::config::Template::qwen3, messages);
    EXPECT_EQ(sample.ids, tok.encode(g["text"].get<std::string>(), false)) << g["name"];
    ++n;
  }
  EXPECT_GE(n, 30);
}

TEST(BpeTrainer, ReadsAlpacaRecordsAndAnotherField) {
  TempDir dir;
  const std::string f = dir.write(
      "a.jsonl", "{\"instruction\": \"Define x.\", \"input\": \"\", \"output\": \"A letter.\"}\n\n"
                 "{\"body\": \"ignored\", \"instruction\": \"Say\", \"input\": \"it\", \"output\": \"ok\"}\n");
  const WordCounts c = count_files({f}, options(300));
  EXPECT_EQ(c.documents, 2);
  EXPECT_EQ(word_map(c), (std::map<std::string, int64_t>{
                             {"Define", 1}, {" x", 1}, {".", 1}, {".\n", 1}, {"A", 1}, {" letter", 1},
                             {"Say", 1}, {"\n", 2}, {"it", 1}, {"ok", 1}}));
  BpeTrainerOptions o = options(300);
  o.field = "body";
  EXPECT_EQ(word_map(count_files({f}, o)).count("Define"), 1u);  // line 1 has no body: alpaca
  EXPECT_EQ(word_map(count_files({f}, o)).count("ignored"), 1u);
}

TEST(BpeTrainer, ReadsLinesLongerThanABlockAndAFileWithoutLastNewline) {
  // 9 MB lines against 8 MiB reads: the first read holds no line end, the
  // second ends inside line 3, the last line has no newline.
  TempDir dir;
  std::string big;
  for (int i = 0; i < 3'000'000; ++i) big += " ab";
  const std::string line = "{\"text\": \"" + big + "\"}\n";
  const std::string f = dir.write("long.jsonl", line + "{\"text\": \"x\"}\n" + line + "{\"text\": \"y\"}");
  const WordCounts c = count_files({f}, options(300));
  EXPECT_EQ(c.documents, 4);
  EXPECT_EQ(word_map(c), (std::map<std::string, int64_t>{{"x", 1}, {" ab", 6'000'000}, {"y", 1}}));
  const std::string bad = dir.write("bad.jsonl", line + "{\"text\": \"x\"}\n" + line + "oops");
  EXPECT_NE(error_of<InputError>([&] { count_files({bad}, options(300)); }).find("bad.jsonl:4:"), std::string::npos);
}

TEST(BpeTrainer, BadInputNamesTheFileAndLine) {
  TempDir dir;
  const BpeTrainerOptions o = options(300);
  const auto message = [&](const std::string& body) {
    const std::string f = dir.write("bad.jsonl", "{\"text\": \"fine\"}\n" + body + "\n");
    return error_of<InputError>([&] { count_files({f}, o); });
  };
  EXPECT_NE(message("{\"text\": \"caf\xc3\"}").find("bad.jsonl:2: not valid UTF-8 (byte 13)"), std::string::npos);
  EXPECT_NE(message("{\"text\": ").find("bad.jsonl:2: not valid JSON"), std::string::npos);
  EXPECT_NE(message("{\"txt\": \"x\"}").find("bad.jsonl:2: no string field 'text'"), std::string::npos);
  EXPECT_NE(message("{\"text\": 3}").find("bad.jsonl:2: field 'text' is not a string"), std::string::npos);
  EXPECT_NE(message("[1]").find("bad.jsonl:2: not a JSON object"), std::string::npos);
  // With many lines over several threads, the first bad line is reported.
  std::string body;
  for (int i = 0; i < 5000; ++i) body += i == 4000 || i == 1234 ? "oops\n" : "{\"text\": \"x\"}\n";
  const std::string f = dir.write("many.jsonl", body);
  BpeTrainerOptions threaded = o;
  threaded.threads = 4;
  EXPECT_NE(error_of<InputError>([&] { count_files({f}, threaded); }).find("many.jsonl:1235:"), std::string::npos);
  EXPECT_NE(error_of<InputError>([&] { count_files({dir.file("missing.jsonl")}, o); }).find("cannot be read"),
            std::string::npos);
  EXPECT_NE(error_of<InputError>([&] { count_texts({"ok", "\xff"}, o); }).find("text 1: not valid UTF-8"),
            std::string::npos);
}

TEST(BpeTrainer, CorpusErrors) {
  TempDir dir;
  const std::string empty = dir.write("empty.jsonl", "\n  \n{\"text\": \"\"}\n");
  EXPECT_NE(error_of<InputError>([&] { train_tokenizer({empty}, dir.file("out"), options(300)); })
                .find("empty.jsonl: no text to train on (1 records"),
            std::string::npos);
  EXPECT_NE(error_of<UsageError>([&] { train_tokenizer({}, dir.file("out"), options(300)); }).find("no input files"),
            std::string::npos);
  const WordCounts c = count_texts({"aaabdaaabac"}, options(300));
  EXPECT_NE(error_of<UsageError>([&] { train_bpe(c, options(260)); })
                .find("--vocab-size 260 is below the 261 ids"),
            std::string::npos);
  BpeTrainerOptions strict = options(300);
  strict.allow_smaller = false;
  EXPECT_NE(error_of<InputError>([&] { train_bpe(c, strict); })
                .find("only 3 merges have pairs seen at least 2 times, giving a vocabulary of 264"),
            std::string::npos);
  EXPECT_EQ(train_bpe(c, options(261)).merges.size(), 0u);  // the smallest vocabulary: no merges
  EXPECT_FALSE(std::filesystem::exists(dir.file("out")));
}

TEST(BpeTrainerCli, TrainsAndReportsOrFailsWithTheRightExitCode) {
  TempDir dir;
  const std::string bin = NTKS_BINARY;
  const std::string corpus = write_jsonl(dir, "c.jsonl", random_texts(500, 3));
  auto r = ntks::testing::run_command(bin + " train-tokenizer --help");
  EXPECT_EQ(r.status, 0) << r.output;
  for (const char* opt : {"--input", "--out", "--vocab-size", "--min-frequency", "--allow-smaller", "--pattern",
                          "--field", "--threads", "--model-max-length"})
    EXPECT_NE(r.output.find(opt), std::string::npos) << opt;
  r = ntks::testing::run_command(bin + " train-tokenizer " + corpus + " --out " + dir.file("tok") +
                                 " --vocab-size 300 --threads 2 --pattern qwen3");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("trained on 500 records"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("vocabulary 300"), std::string::npos) << r.output;
  EXPECT_EQ(Tokenizer::load(dir.file("tok/tokenizer.json")).vocab_size(), 300);
  r = ntks::testing::run_command(bin + " train-tokenizer " + corpus + " --out " + dir.file("t2") +
                                 " --vocab-size 100");
  EXPECT_EQ(r.status, 2) << r.output;
  r = ntks::testing::run_command(bin + " train-tokenizer " + corpus + " --out " + dir.file("t2") +
                                 " --pattern gpt2");
  EXPECT_EQ(r.status, 2) << r.output;
  r = ntks::testing::run_command(bin + " train-tokenizer " + corpus + " --out " + dir.file("t2") +
                                 " --vocab-size 100000");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("--allow-smaller"), std::string::npos) << r.output;
  r = ntks::testing::run_command(bin + " train-tokenizer " + corpus + " --out " + dir.file("t2") +
                                 " --vocab-size 100000 --allow-smaller");
  EXPECT_EQ(r.status, 0) << r.output;
}

}  // namespace
