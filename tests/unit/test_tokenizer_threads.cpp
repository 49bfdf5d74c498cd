// Tokenizer::encode from many threads at once. Each thread keeps its own word
// cache (src/tokenizer/tokenizer.cpp), so these check that caches never leak
// ids between tokenizers (also one destroyed and another loaded in its place),
// survive being emptied when full, and give every thread the ids a lone
// thread gets. The real Llama-3 / Qwen3 files run when NTKS_TOKENIZER_DIR is
// set (ctest's tokenizer_golden sets it); the rest needs no network.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "ntks/tokenizer/tokenizer.h"
#include "ntks/util/files.h"
#include "test_util.h"

using ntks::tokenizer::Tokenizer;
using Ids = std::vector<int32_t>;

namespace {

const std::string kTinyJson = std::string(NTKS_SOURCE_DIR) + "/tests/tokenizer/tiny_tokenizer.json";

// The tiny tokenizer with merge "b c" replaced by "c a": "bca" is {6, 0} in
// the original and {1, 8} here, so a cache shared between them shows.
Tokenizer tiny_variant() {
  std::string text = ntks::read_file(kTinyJson);
  const size_t at = text.find("\"b c\"");
  EXPECT_NE(at, std::string::npos);
  text.replace(at, 5, "\"c a\"");
  return Tokenizer::from_json(text, "variant");
}

// Runs `f` on a new thread (fresh thread-local caches) and returns its result.
template <class F>
auto on_new_thread(F f) {
  decltype(f()) out;
  std::thread([&] { out = f(); }).join();
  return out;
}

TEST(TokenizerThreads, CachesNeverMixTokenizers) {
  const Tokenizer a = Tokenizer::load(kTinyJson);
  const Tokenizer b = tiny_variant();
  ASSERT_EQ(a.encode("bca", false), (Ids{6, 0}));
  ASSERT_EQ(b.encode("bca", false), (Ids{1, 8}));
  for (int i = 0; i < 3; ++i) {  // alternating on one thread
    EXPECT_EQ(a.encode("bca bca", false), (Ids{6, 0, 3, 6, 0}));
    EXPECT_EQ(b.encode("bca bca", false), (Ids{1, 8, 3, 1, 8}));
  }
}

TEST(TokenizerThreads, ANewTokenizerInAnOldOnesPlaceStartsClean) {
  // The allocator often hands the new tokenizer the old one's memory; a cache
  // keyed by address would then return the old tokenizer's ids.
  for (int i = 0; i < 4; ++i) {
    auto a = std::make_unique<Tokenizer>(Tokenizer::load(kTinyJson));
    EXPECT_EQ(a->encode("bca", false), (Ids{6, 0}));
    a.reset();
    auto b = std::make_unique<Tokenizer>(tiny_variant());
    EXPECT_EQ(b->encode("bca", false), (Ids{1, 8}));
  }
}

TEST(TokenizerThreads, MoreTokenizersThanCachesOnOneThread) {
  std::vector<Tokenizer> toks;
  for (int i = 0; i < 7; ++i) toks.push_back(i % 2 ? tiny_variant() : Tokenizer::load(kTinyJson));
  for (int round = 0; round < 3; ++round)
    for (size_t i = 0; i < toks.size(); ++i)
      EXPECT_EQ(toks[i].encode("bca", false), i % 2 ? (Ids{1, 8}) : (Ids{6, 0})) << i;
}

TEST(TokenizerThreads, FullCacheIsEmptiedWithoutChangingIds) {
  // More distinct words than a thread's cache holds (2^14): each word's ids
  // from the cache-filling thread must equal a fresh thread's, word by word.
  const Tokenizer t = tiny_variant();
  std::vector<std::string> words;
  for (int n = 0; n < 40000; ++n) {
    std::string w;
    for (int k = n + 3; k > 0; k /= 3) w += static_cast<char>('a' + k % 3);
    words.push_back(w);
  }
  auto encode_all = [&](bool reverse) {
    std::vector<Ids> out(words.size());
    for (size_t j = 0; j < words.size(); ++j) {
      const size_t i = reverse ? words.size() - 1 - j : j;
      out[i] = t.encode(words[i], false);
    }
    return out;
  };
  const auto forward = on_new_thread([&] { return encode_all(false); });
  const auto backward = on_new_thread([&] { return encode_all(true); });
  EXPECT_EQ(forward, backward);
  // And once more on a thread whose cache already holds (and drops) words.
  EXPECT_EQ(on_new_thread([&] {
              encode_all(true);
              return encode_all(false);
            }),
            forward);
}

TEST(TokenizerThreads, FourThreadsGetALoneThreadsIds) {
  const Tokenizer t = Tokenizer::load(kTinyJson);
  const std::vector<std::string> texts = {"abc", "bcab", " abc", "cab!", "<x>abc<x>", "hi abc", "a <s> b",
                                          "e\xCC\x81", "abcabcabc bca cab", std::string(200, 'a') + "bc"};
  std::vector<Ids> want;
  for (const auto& s : texts) want.push_back(on_new_thread([&] { return t.encode(s); }));
  std::vector<size_t> wrong(4, 0);
  std::vector<std::thread> threads;
  for (size_t k = 0; k < wrong.size(); ++k)
    threads.emplace_back([&, k] {
      for (int rep = 0; rep < 200; ++rep)
        for (size_t i = 0; i < texts.size(); ++i) {
          const size_t j = (i + k + static_cast<size_t>(rep)) % texts.size();
          wrong[k] += t.encode(texts[j]) != want[j];
        }
    });
  for (auto& th : threads) th.join();
  for (size_t w : wrong) EXPECT_EQ(w, 0u);
}

// The golden strings of the real tokenizers: 4 threads each encode all of
// them (each from a different start), two tokenizers interleaved on every
// thread, and all must match HF's ids (ctest's tokenizer_golden runs it: *TokenizerGolden*).
TEST(TokenizerGoldenThreads, IdsFromFourThreadsWithTwoTokenizers) {
  const char* dir = std::getenv("NTKS_TOKENIZER_DIR");
  if (!dir || !*dir) GTEST_SKIP() << "NTKS_TOKENIZER_DIR is not set (ctest's tokenizer_golden sets it)";
  struct Case {
    std::string text;
    bool add;
    Ids ids;
  };
  std::vector<std::unique_ptr<Tokenizer>> toks;
  std::vector<std::vector<Case>> golden;
  for (const std::string name : {"qwen3", "llama3"}) {
    const std::string path = std::string(dir) + "/" + name + "/tokenizer.json";
    ASSERT_TRUE(std::filesystem::exists(path)) << path;
    toks.push_back(std::make_unique<Tokenizer>(Tokenizer::load(path)));
    std::ifstream in(std::string(NTKS_SOURCE_DIR) + "/tests/tokenizer/golden/" + name + ".jsonl");
    golden.emplace_back();
    for (std::string line; std::getline(in, line);) {
      const auto j = nlohmann::json::parse(line);
      golden.back().push_back({j.at("text").get<std::string>(), j.at("add_special_tokens").get<bool>(),
                               j.at("ids").get<Ids>()});
    }
    ASSERT_GE(golden.back().size(), 400u) << name;
  }
  std::vector<size_t> wrong(4, 0), done(4, 0);
  std::vector<std::thread> threads;
  for (size_t k = 0; k < wrong.size(); ++k)
    threads.emplace_back([&, k] {
      for (int rep = 0; rep < 2; ++rep)
        for (size_t i = 0; i < golden[0].size(); ++i)
          for (size_t f = 0; f < toks.size(); ++f) {
            const auto& g = golden[f];
            const Case& c = g[(i + k * g.size() / 4) % g.size()];
            wrong[k] += toks[f]->encode(c.text, c.add) != c.ids;
            ++done[k];
          }
    });
  for (auto& th : threads) th.join();
  for (size_t k = 0; k < wrong.size(); ++k) {
    EXPECT_EQ(wrong[k], 0u) << "thread " << k;
    EXPECT_EQ(done[k], 2 * golden[0].size() * toks.size());
  }
}

// `ntk-select bench --what tokenizer` without Hugging Face: our figures for
// each thread count, documents read from .jsonl or plain lines, and usage
// errors.
TEST(TokenizerBenchCli, TimesOursOnEachThreadCount) {
  const std::string bench = std::string(NTKS_BINARY) + " bench --log-level warn --what tokenizer --tokenizer " +
                            kTinyJson + " --reps 1 --no-hf ";
  auto r = ntks::testing::run_command(bench + "--text-mb 0.05 --threads-list 1,2 2>&1");
  EXPECT_EQ(r.status, 0) << r.output;
  for (const char* want : {"generated", "ours 1 thread :", "ours 2 threads:", "Hugging Face skipped"})
    EXPECT_NE(r.output.find(want), std::string::npos) << want << "\n" << r.output;

  ntks::testing::TempDir dir;
  // {15, 5} and {15, 6, 4}: the template adds <x> (15) to each document.
  const std::string jsonl = dir.write("docs.jsonl", "{\"text\": \"abc\"}\n\n{\"text\": \"bcab\"}\n");
  r = ntks::testing::run_command(bench + "--text " + jsonl + " --threads-list 3 2>&1");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("2 documents, 0.00 MB, 5 tokens"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("ours 3 threads:"), std::string::npos) << r.output;
  const std::string lines = dir.write("docs.txt", "abc\nbcab\n\nabc\n");
  r = ntks::testing::run_command(bench + "--text " + lines + " --no-special-tokens 2>&1");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("3 documents, 0.00 MB, 4 tokens"), std::string::npos) << r.output;

  r = ntks::testing::run_command(bench + "--threads-list 1,0 2>&1");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("--threads-list"), std::string::npos) << r.output;
  const std::string bad = dir.write("bad.jsonl", "{\"text\": \"abc\"}\n{\"txt\": 1}\n");
  r = ntks::testing::run_command(bench + "--text " + bad + " 2>&1");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find(bad + ":2"), std::string::npos) << r.output;
  const std::string not_utf8 = dir.write("bad.txt", "abc\nab\xFF\n");
  r = ntks::testing::run_command(bench + "--text " + not_utf8 + " --threads-list 2 2>&1");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find(not_utf8 + ": document 2"), std::string::npos) << r.output;
}

}  // namespace
