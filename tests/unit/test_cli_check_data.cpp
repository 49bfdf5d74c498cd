// `ntk-select check-data` through the real binary: summaries on stdout, skip
// files with every bad line, fail mode naming file:line, shards that add up,
// and the same totals on 1 and 3 ranks.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sstream>

#include "byte_tokenizer.h"
#include "ntks/util/files.h"
#include "test_util.h"

namespace {

using ntks::testing::run_command;
using ntks::testing::TempDir;

struct CliFixture {
  TempDir dir;
  std::string tokenizer = dir.write("tokenizer.json", ntks::testing::byte_tokenizer_json());
  std::string domain, candidates;
  CliFixture() {
    domain = dir.write("domain.jsonl",
                       "{\"instruction\": \"What is a fever?\", \"output\": \"A high body temperature.\"}\n"
                       "{\"prompt\": \"Define anemia\", \"response\": \"Too few red blood cells.\"}\n");
    std::string c;
    for (int i = 0; i < 30; ++i) {
      if (i % 10 == 3) {
        c += "{\"instruction\": \"cut\n";  // malformed JSON
      } else if (i % 10 == 7) {
        c += "{\"instruction\": \"no answer\", \"output\": \"\"}\n";
      } else {
        c += fmt::format("{{\"instruction\": \"Question {}\", \"output\": \"Answer {}\", \"id\": \"q{}\"}}\n", i, i, i);
      }
    }
    candidates = dir.write("candidates.jsonl", c);
  }
  std::string command(const std::string& extra, const std::string& launcher = "") const {
    return fmt::format(
        "cd {} && {} {} check-data --set model.tokenizer={} --set data.domain={} --set data.candidates=[{}] "
        "--set run.dir={} {}",
        dir.path().string(), launcher, NTKS_BINARY, tokenizer, domain, candidates, dir.file("run"), extra);
  }
};

// The summary lines a run printed on stdout (log lines on stderr carry timestamps).
std::string summaries(const std::string& output) {
  std::string out;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("domain: ", 0) == 0 || line.rfind("candidates: ", 0) == 0) out += line + "\n";
  return out;
}

size_t count_lines(const std::string& path) {
  std::ifstream in(path);
  size_t n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

TEST(CheckDataCli, SkipModeSummarisesAndWritesTheSkipFiles) {
  CliFixture f;
  auto r = run_command(f.command("--set data.on_error=skip 2>/dev/null"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("domain: 2 records: 2 samples"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("candidates: 30 records: 24 samples"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("6 skipped [3 empty_response, 3 json]"), std::string::npos) << r.output;
  const std::string skipped = f.dir.file("run/check-data/skipped-candidates.jsonl");
  EXPECT_EQ(count_lines(skipped), 6u);
  EXPECT_EQ(count_lines(f.dir.file("run/check-data/skipped-domain.jsonl")), 0u);
  std::ifstream in(skipped);
  std::string first;
  std::getline(in, first);
  auto j = nlohmann::json::parse(first);
  EXPECT_EQ(j["line"], 4);
  EXPECT_EQ(j["reason"], "json");
}

TEST(CheckDataCli, FailModeStopsAtTheFirstBadLine) {
  CliFixture f;
  auto r = run_command(f.command("--which candidates"));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find(f.candidates + ":4: not valid JSON"), std::string::npos) << r.output;
}

TEST(CheckDataCli, ShardsAddUpAndOutputListsSamples) {
  CliFixture f;
  int64_t records = 0;
  for (int shard = 0; shard < 4; ++shard) {
    auto r = run_command(f.command(fmt::format("--which candidates --set data.on_error=skip --shard {} --num-shards 4 "
                                               "--output {} 2>/dev/null",
                                               shard, f.dir.file(fmt::format("out{}", shard)))));
    ASSERT_EQ(r.status, 0) << r.output;
    const std::string out = f.dir.file(fmt::format("out{}.candidates.jsonl", shard));
    std::ifstream in(out);
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line);
      EXPECT_EQ(j["id"], fmt::format("q{}", j["index"].get<int>()));
      EXPECT_EQ(j["hash"].get<std::string>().size(), 16u);
      EXPECT_GT(j["response_tokens"].get<int>(), 0);
      ++records;
    }
  }
  EXPECT_EQ(records, 24);
}

TEST(CheckDataCli, SameTotalsOnThreeRanks) {
  CliFixture f;
  auto one = run_command(f.command("--set data.on_error=skip 2>/dev/null"));
  auto three = run_command(f.command("--set data.on_error=skip 2>/dev/null",
                                     "mpirun --oversubscribe -np 3"));
  ASSERT_EQ(one.status, 0) << one.output;
  ASSERT_EQ(three.status, 0) << three.output;
  EXPECT_EQ(summaries(one.output),
            "domain: 2 records: 2 samples, 131 tokens\n"
            "candidates: 30 records: 24 samples, 1112 tokens, 6 skipped [3 empty_response, 3 json]\n");
  EXPECT_EQ(summaries(one.output), summaries(three.output));
  size_t skipped = 0;
  for (int rank = 0; rank < 3; ++rank)
    skipped += count_lines(f.dir.file(fmt::format("run/check-data/skipped-candidates-{:05d}-of-00003.jsonl", rank)));
  EXPECT_EQ(skipped, 6u);
}

TEST(CheckDataCli, UsageErrors) {
  CliFixture f;
  auto r = run_command(f.command("--shard 1 2>&1"));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("--shard and --num-shards go together"), std::string::npos) << r.output;
  r = run_command(fmt::format("{} check-data --which domain --set data.domain={} 2>&1", NTKS_BINARY, f.domain));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("model.path is not set"), std::string::npos) << r.output;
}

}  // namespace
