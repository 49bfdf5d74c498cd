// Ids of the real Qwen3, Llama-3 and Llama-3.1 tokenizers against goldens made
// by HF's Rust tokenizers (tests/tokenizer/make_golden.js), and decode round
// trips. The tokenizer.json files are not in the repository: ctest's
// tokenizer_golden test fetches them (tests/tokenizer/fetch_tokenizers.sh) and
// sets NTKS_TOKENIZER_DIR; with the variable set, a missing file fails. Run
// without it (the per-test discovery of the unit binary), these tests skip.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "ntks/tokenizer/tokenizer.h"
#include "tokenizer/parts.h"

using ntks::tokenizer::Tokenizer;

namespace {

const std::string kGoldenDir = std::string(NTKS_SOURCE_DIR) + "/tests/tokenizer/golden";

struct Golden {
  std::string text;
  bool add_special_tokens;
  std::vector<int32_t> ids;
};

std::vector<Golden> read_golden(const std::string& name) {
  std::ifstream in(kGoldenDir + "/" + name + ".jsonl");
  EXPECT_TRUE(in) << kGoldenDir << "/" << name << ".jsonl";
  std::vector<Golden> out;
  std::string line;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line);
    out.push_back({j.at("text").get<std::string>(), j.at("add_special_tokens").get<bool>(),
                   j.at("ids").get<std::vector<int32_t>>()});
  }
  return out;
}

class TokenizerGolden : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const char* dir = std::getenv("NTKS_TOKENIZER_DIR");
    if (!dir || !*dir) GTEST_SKIP() << "NTKS_TOKENIZER_DIR is not set (ctest's tokenizer_golden sets it)";
    path_ = std::string(dir) + "/" + GetParam() + "/tokenizer.json";
    ASSERT_TRUE(std::filesystem::exists(path_)) << path_ << " is missing; run tests/tokenizer/fetch_tokenizers.sh";
  }
  std::string path_;
};

TEST_P(TokenizerGolden, IdsEqualHuggingFace) {
  const Tokenizer t = Tokenizer::load(path_);
  const auto golden = read_golden(GetParam());
  ASSERT_GE(golden.size(), 400u);
  size_t wrong = 0;
  for (const Golden& g : golden) {
    const auto ids = t.encode(g.text, g.add_special_tokens);
    if (ids != g.ids && ++wrong <= 5)
      ADD_FAILURE() << GetParam() << ": " << nlohmann::json(g.text).dump()
                    << " add_special_tokens=" << g.add_special_tokens << "\n  got  " << nlohmann::json(ids).dump()
                    << "\n  want " << nlohmann::json(g.ids).dump();
  }
  EXPECT_EQ(wrong, 0u) << "of " << golden.size();
}

TEST_P(TokenizerGolden, DecodeInvertsEncode) {
  const Tokenizer t = Tokenizer::load(path_);
  const bool nfc = GetParam() == "qwen3";
  for (const Golden& g : read_golden(GetParam())) {
    if (g.add_special_tokens) continue;
    const std::string want = nfc ? ntks::tokenizer::detail::nfc(g.text) : g.text;
    EXPECT_EQ(t.decode(t.encode(g.text, false)), want) << nlohmann::json(g.text).dump();
  }
}

TEST_P(TokenizerGolden, EncodeIsThreadSafe) {
  const Tokenizer t = Tokenizer::load(path_);
  const auto golden = read_golden(GetParam());
  std::vector<size_t> wrong(4, 0);
  std::vector<std::thread> threads;
  for (size_t k = 0; k < wrong.size(); ++k)
    threads.emplace_back([&, k] {
      for (size_t i = k; i < golden.size(); i += 2)
        wrong[k] += t.encode(golden[i].text, golden[i].add_special_tokens) != golden[i].ids;
    });
  for (auto& th : threads) th.join();
  for (size_t w : wrong) EXPECT_EQ(w, 0u);
}

INSTANTIATE_TEST_SUITE_P(Files, TokenizerGolden, ::testing::Values("qwen3", "llama3", "llama3_1"));

}  // namespace
