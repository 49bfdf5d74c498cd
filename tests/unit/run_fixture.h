#pragma once
// A tiny model, tokenizer, domain set and candidate corpus with a config for
// `ntk-select run`, and the outputs a run must reproduce: shared by the run
// tests (test_run_cli.cpp, test_run_reuse.cpp).

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <filesystem>
#include <string>
#include <vector>

#include "byte_tokenizer.h"
#include "ntks/select/scores.h"
#include "ntks/util/files.h"
#include "test_util.h"

namespace ntks::testing::run {

namespace fs = std::filesystem;

inline const std::vector<std::string> kStages = {"warmup", "embed", "preselect", "grads", "score", "select"};

struct RunFixture {
  TempDir dir;
  std::string model = dir.file("model"), other_model = dir.file("other");
  std::string config;

  // `other`: also a second model (another seed) in other_model.
  explicit RunFixture(bool other = false) {
    for (const auto& [out, seed] : {std::pair{model, 5}, std::pair{other_model, 6}}) {
      if (out == other_model && !other) continue;
      auto r = run_command(fmt::format("{} make-model --arch qwen3 --out {} --vocab 272 --hidden 32 --intermediate 48 "
                                       "--layers 2 --heads 4 --kv-heads 2 --head-dim 8 --seed {} 2>&1",
                                       NTKS_BINARY, out, seed));
      EXPECT_EQ(r.status, 0) << r.output;
    }
    const std::string tokenizer = dir.write("tokenizer.json", ntks::testing::byte_tokenizer_json());
    std::string d, c;
    for (int i = 0; i < 6; ++i) d += fmt::format("{{\"prompt\": \"dose {}\", \"response\": \"{} mg\"}}\n", i, 10 * i + 5);
    for (int i = 0; i < 30; ++i)
      c += fmt::format("{{\"instruction\": \"q{}{}\", \"output\": \"a{} {}\", \"id\": \"c{}\"}}\n", i,
                       std::string(static_cast<size_t>(i % 5), '?'), i, i % 3 ? "mg" : "no", i);
    const std::string domain = dir.write("domain.jsonl", d), candidates = dir.write("candidates.jsonl", c);
    config = dir.write("config.yaml", fmt::format(R"(run: {{dir: {}, seed: 7}}
model: {{path: {}, tokenizer: {}, dtype: fp32, device: cpu, max_seq_len: 64}}
lora: {{r: 4, alpha: 8, dropout: 0}}
data: {{domain: {}, candidates: [{}]}}
warmup: {{epochs: 1, batch_size: 2, grad_accum: 1, lr: 0.01}}
preselect: {{k: 5, size: 12}}
grads: {{dim: 32, batch_size: 4}}
select: {{size: 6}}
store: {{block_rows: 4}}
)",
                                                  dir.file("run"), model, tokenizer, domain, candidates));
  }
  std::string run_dir(const std::string& name) const { return dir.file(name); }
  ntks::testing::CommandResult ntks(const std::string& run, const std::string& args,
                                    const std::string& prefix = "") const {
    return run_command(fmt::format("{} {} {} --config {} --set run.dir={} 2>&1", prefix, NTKS_BINARY, args, config,
                                   run_dir(run)));
  }
};

// The final outputs that must not depend on interruptions or rank counts.
struct Selection {
  std::string ids, jsonl, mixture;
  select::ScoreTable scores;
};

inline Selection selection(const std::string& run) {
  return {read_file(run + "/select/selected_ids.txt"), read_file(run + "/select/selected.jsonl"),
          read_file(run + "/select/mixture.jsonl"), select::read_scores(run + "/score/scores.h5")};
}

inline void expect_same(const Selection& a, const Selection& b) {
  EXPECT_EQ(a.ids, b.ids);
  EXPECT_EQ(a.jsonl, b.jsonl);
  EXPECT_EQ(a.mixture, b.mixture);
  EXPECT_EQ(a.scores.ids, b.scores.ids);
  EXPECT_EQ(a.scores.scores, b.scores.scores);
}

}  // namespace ntks::testing::run
