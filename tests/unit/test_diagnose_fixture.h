#pragma once
// A tiny random llama with a random adapter, pre-tokenized data and the
// independent Python reference (tests/scripts/diagnose_reference.py), shared
// by the `ntk-select diagnose` tests.

#include <gtest/gtest.h>

#include <cmath>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "byte_tokenizer.h"
#include "ntks/util/files.h"
#include "test_util.h"

namespace ntks::testing::diagnose {

struct DiagnoseFixture {
  TempDir dir;
  std::string tokenizer = dir.write("tokenizer.json", byte_tokenizer_json());
  std::string model = dir.file("model"), adapter = dir.file("adapter");

  DiagnoseFixture() {
    auto r = run_command(fmt::format("{} make-model --arch llama --out {} --layers 2 --hidden 32 --intermediate 48 "
                                     "--heads 4 --kv-heads 2 --vocab 272 --seed 3 --lora-out {} --lora-r 4 "
                                     "--lora-alpha 8 2>&1",
                                     NTKS_BINARY, model, adapter));
    EXPECT_EQ(r.status, 0) << r.output;
  }

  /// `n` pre-tokenized records of 6..13 tokens whose last 1..4 tokens are the response.
  std::string pretokenized(const std::string& name, int n, uint64_t seed = 1) const {
    std::string text;
    uint64_t state = seed;
    auto next = [&state] {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      return state >> 33;
    };
    for (int i = 0; i < n; ++i) {
      const int len = 6 + static_cast<int>(next() % 8), resp = 1 + static_cast<int>(next() % 4);
      std::vector<int> ids, mask;
      for (int t = 0; t < len; ++t) {
        ids.push_back(static_cast<int>(next() % 256));
        mask.push_back(t >= len - resp ? 1 : 0);
      }
      text += nlohmann::json{{"ids", ids}, {"response_mask", mask}}.dump() + "\n";
    }
    return dir.write(name, text);
  }

  std::string run_dir() const { return dir.file("run"); }

  CommandResult ntks(const std::string& args) const {
    return run_command(fmt::format("{} {} --set model.path={} --set model.tokenizer={} --set model.dtype=fp32 "
                                   "--set model.device=cpu --set run.dir={} --set lora.r=4 --set lora.alpha=8 "
                                   "--set lora.dropout=0 2>&1",
                                   NTKS_BINARY, args, model, tokenizer, run_dir()));
  }

  /// The reference's JSON (stdout of diagnose_reference.py ARGS).
  nlohmann::json reference(const std::string& args) const {
    auto r = run_command(fmt::format("/usr/bin/python3 {}/tests/scripts/diagnose_reference.py {} 2>{}", NTKS_SOURCE_DIR,
                                     args, dir.file("reference.err")));
    EXPECT_EQ(r.status, 0) << r.output << read_file(dir.file("reference.err"));
    return nlohmann::json::parse(r.output);
  }
};

inline nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(read_file(path)); }

/// ||a - b||_F / ||b||_F of two matrices given as JSON arrays of rows.
inline double relative_error(const nlohmann::json& a, const nlohmann::json& b) {
  double diff = 0, norm = 0;
  EXPECT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    EXPECT_EQ(a[i].size(), b[i].size());
    for (size_t j = 0; j < a[i].size() && j < b[i].size(); ++j) {
      const double x = a[i][j].get<double>(), y = b[i][j].get<double>();
      diff += (x - y) * (x - y);
      norm += y * y;
    }
  }
  return std::sqrt(diff / norm);
}

}  // namespace ntks::testing::diagnose
