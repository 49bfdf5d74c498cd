// The ready configs under configs/: each loads with the real loader (the one
// every command uses), the paper configs hold the paper's settings, and the
// committed paper configs are what configs/paper/generate.sh writes.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "ntks/config/load.h"
#include "ntks/util/files.h"
#include "test_util.h"

namespace {

namespace fs = std::filesystem;
using ntks::testing::run_command;
using ntks::testing::TempDir;

const fs::path kConfigs = fs::path(NTKS_SOURCE_DIR) / "configs";

std::vector<fs::path> yaml_files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".yaml") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(Configs, EveryFileLoads) {
  const auto files = yaml_files(kConfigs);
  EXPECT_GE(files.size(), 10u);  // defaults, demo, 8 paper configs
  for (const fs::path& f : files) {
    SCOPED_TRACE(f.string());
    EXPECT_NO_THROW(ntks::config::load(f.string(), {}));
  }
}

TEST(Configs, PaperConfigsHoldThePaperSettings) {
  const auto files = yaml_files(kConfigs / "paper");
  ASSERT_EQ(files.size(), 8u);
  for (const fs::path& f : files) {
    SCOPED_TRACE(f.string());
    const auto c = ntks::config::load(f.string(), {});
    EXPECT_EQ(c.lora.r, 32);
    EXPECT_DOUBLE_EQ(c.lora.alpha, 16);
    EXPECT_DOUBLE_EQ(c.lora.dropout, 0.05);
    EXPECT_EQ(c.lora.targets.size(), 7u);
    EXPECT_DOUBLE_EQ(c.warmup.lr, 5e-4);
    EXPECT_EQ(c.warmup.schedule, ntks::config::Schedule::cosine);
    EXPECT_DOUBLE_EQ(c.warmup.warmup_ratio, 0.03);
    EXPECT_EQ(c.warmup.epochs, 3);
    EXPECT_EQ(c.warmup.batch_size, 8);
    EXPECT_EQ(c.warmup.grad_accum, 8);
    EXPECT_EQ(c.model.max_seq_len, 3072);
    EXPECT_EQ(c.grads.dim, 8192);
    EXPECT_EQ(c.select.size, 9000);
    EXPECT_DOUBLE_EQ(c.preselect.multiple, 4);
    EXPECT_EQ(ntks::config::preselect_size(c), 36000);
    // Placeholders are marked as such, and the template fits the model.
    EXPECT_EQ(c.model.path.rfind("/path/to/", 0), 0u) << c.model.path;
    const bool llama = f.filename().string().rfind("llama3-8b-", 0) == 0;
    EXPECT_EQ(c.model.chat_template, llama ? ntks::config::Template::llama3 : ntks::config::Template::qwen3);
    const std::string stem = f.stem().string();
    EXPECT_NE(c.data.domain.find("/" + stem.substr(stem.rfind('-') + 1) + "/"), std::string::npos)
        << c.data.domain;
  }
}

TEST(Configs, PaperConfigsAreGenerated) {
  TempDir dir;
  const auto r = run_command("sh " + (kConfigs / "paper" / "generate.sh").string() + " " + dir.path().string());
  ASSERT_EQ(r.status, 0) << r.output;
  const auto fresh = yaml_files(dir.path());
  const auto committed = yaml_files(kConfigs / "paper");
  ASSERT_EQ(fresh.size(), committed.size());
  for (size_t i = 0; i < fresh.size(); ++i) {
    EXPECT_EQ(fresh[i].filename(), committed[i].filename());
    EXPECT_EQ(ntks::read_file(fresh[i].string()), ntks::read_file(committed[i].string()))
        << committed[i] << " is out of date: run configs/paper/generate.sh";
  }
}

}  // namespace
