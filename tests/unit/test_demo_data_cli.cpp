// `ntk-select demo-data` through the real binary on the WordNet fixture: the
// three files, byte-identical for a seed, the report line (counted here
// independently from the files), --list-topics and --help.

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "jsonl_file.h"
#include "ntks/util/files.h"
#include "test_util.h"

namespace {

using ntks::testing::read_jsonl;
using ntks::testing::run_command;
using ntks::testing::TempDir;

const std::string kDemoWordnet = std::string(NTKS_SOURCE_DIR) + "/tests/data/wordnet";

std::string demo_data(const std::string& args) {
  return fmt::format("{} demo-data --wordnet {} {} 2>&1", NTKS_BINARY, kDemoWordnet, args);
}

TEST(DemoDataCli, WritesDeterministicFilesAndReports) {
  TempDir dir;
  const std::string args =
      "--domain medicine --domain-size 4 --pool-size 10 --on-topic-share 0.3 --test-size 2 --seed 7";
  auto r = run_command(demo_data(args + " --out " + dir.file("a")));
  ASSERT_EQ(r.status, 0) << r.output;
  r = run_command(demo_data(args + " --out " + dir.file("b")));
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* f : {"domain.jsonl", "pool.jsonl", "test.jsonl", "labels.json"})
    EXPECT_EQ(ntks::read_file(dir.file(std::string("a/") + f)), ntks::read_file(dir.file(std::string("b/") + f))) << f;
  // Other seeds give other files: WordNet.DrawIsDisjointLabelledAndDeterministic.

  const auto domain = read_jsonl(dir.file("a/domain.jsonl"));
  const auto pool = read_jsonl(dir.file("a/pool.jsonl"));
  const auto labels = nlohmann::json::parse(ntks::read_file(dir.file("a/labels.json")));
  ASSERT_EQ(domain.size(), 4u);
  ASSERT_EQ(pool.size(), 10u);
  const auto test = read_jsonl(dir.file("a/test.jsonl"));
  ASSERT_EQ(test.size(), 2u);
  EXPECT_EQ(labels["test_size"], 2);
  EXPECT_EQ(labels["members"], nlohmann::json::parse(R"(["medicine", "surgery"])"));
  EXPECT_EQ(labels["pool_on_topic"], 3);
  EXPECT_DOUBLE_EQ(labels["pool_base_rate"].get<double>(), 0.3);
  // Alpaca fields, an id, a topic; no synset (id without its kind) in both files.
  std::set<std::string> domain_synsets;
  for (const auto& s : domain) {
    for (const char* k : {"id", "instruction", "input", "output", "topic"}) EXPECT_TRUE(s.contains(k)) << s;
    EXPECT_TRUE(s["topic"] == "medicine" || s["topic"] == "surgery") << s;
    const std::string id = s["id"];
    domain_synsets.insert(id.substr(0, id.rfind('-')));
  }
  std::vector<std::string> ids;
  size_t on_topic_picked = 0;
  for (const auto& s : pool) {
    const std::string id = s["id"];
    EXPECT_EQ(domain_synsets.count(id.substr(0, id.rfind('-'))), 0u) << id;
    domain_synsets.insert(id.substr(0, id.rfind('-')));
  }
  for (const auto& s : test) {  // on-topic, in neither file
    const std::string id = s["id"];
    EXPECT_EQ(domain_synsets.count(id.substr(0, id.rfind('-'))), 0u) << id;
    EXPECT_TRUE(s["topic"] == "medicine" || s["topic"] == "surgery") << s;
    // and a multiple-choice question for `evaluate`: its output among the options
    if (!s.contains("options")) continue;
    ASSERT_GE(s["options"].size(), 2u) << s;
    EXPECT_EQ(s["options"][s["answer"].get<size_t>()], s["output"]) << s;
  }
  for (const auto& s : pool) EXPECT_FALSE(s.contains("options")) << s;
  // "Select" every other pool sample and count its topic here.
  for (size_t k = 0; k < pool.size(); k += 2) {
    ids.push_back(pool[k]["id"]);
    on_topic_picked += (pool[k]["topic"] == "medicine" || pool[k]["topic"] == "surgery") ? 1 : 0;
  }
  const std::string ids_file = dir.write("selected_ids.txt", fmt::format("{}\n\n", fmt::join(ids, "\n")));
  r = run_command(fmt::format("{} demo-data --out {} --report {} 2>&1", NTKS_BINARY, dir.file("a"), ids_file));
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string head = fmt::format("on-topic: {} of {} selected ({:.1f}%) vs pool base rate 30.0%\n",
                                       on_topic_picked, ids.size(),
                                       100.0 * static_cast<double>(on_topic_picked) / ids.size());
  EXPECT_EQ(r.output.substr(0, head.size()), head) << r.output;
  // then the first three selected samples, in the file's order
  const std::string first = pool[0]["instruction"].get<std::string>().substr(0, 40);
  EXPECT_NE(r.output.find("the best selected samples:\n  1. [" + pool[0]["topic"].get<std::string>() + "] " + first),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("\n  3. ["), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("\n  4. ["), std::string::npos) << r.output;

  dir.write("bad_ids.txt", ids.front() + "\nwn-n99999999-define\n");
  r = run_command(fmt::format("{} demo-data --out {} --report {} 2>&1", NTKS_BINARY, dir.file("a"),
                              dir.file("bad_ids.txt")));
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("bad_ids.txt:2: 'wn-n99999999-define' is not in the pool"), std::string::npos) << r.output;
}

TEST(DemoDataCli, ListsTopicsAndExplainsOptions) {
  auto r = run_command(demo_data("--list-topics"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("medicine         13 synsets   fields: medicine, medical_science"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("  surgery                           3\n"), std::string::npos) << r.output;

  r = run_command(fmt::format("{} demo-data --help 2>&1", NTKS_BINARY));
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* o : {"--wordnet", "--out", "--domain ", "--domain-size", "--pool-size", "--test-size",
                        "--on-topic-share", "--seed", "--list-topics", "--report"})
    EXPECT_NE(r.output.find(o), std::string::npos) << o;

  TempDir dir;
  r = run_command(demo_data("--domain medicine --on-topic-share 1.5 --out " + dir.file("x")));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("--on-topic-share '1.5'"), std::string::npos) << r.output;
  r = run_command(demo_data("--domain medicine --test-size -1 --out " + dir.file("x")));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("--test-size must be at least 0, got -1"), std::string::npos) << r.output;
  r = run_command(demo_data("--domain medicine --domain-size 4 --pool-size 10 --on-topic-share 0.3 --out " +
                            dir.file("x")));  // the default 200 test samples do not fit in 13 synsets
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("plus --test-size 200 (needs 207)"), std::string::npos) << r.output;
  r = run_command(fmt::format("{} demo-data --wordnet {} --domain medicine --out {} 2>&1", NTKS_BINARY,
                              dir.path().string(), dir.file("x")));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("data.noun is missing"), std::string::npos) << r.output;
}

}  // namespace
