// `ntk-select warmup` through the real binary under mpirun with 1, 2 and 3
// ranks: the run folder is complete, the adapter loads with load_adapter, and
// the adapters and step losses have the same bits on every rank count (with dropout).

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>

#include "byte_tokenizer.h"
#include "ntks/model/adapter.h"
#include "ntks/model/decoder.h"
#include "test_util.h"
#include "jsonl_file.h"

using ntks::testing::read_jsonl;

namespace {

using ntks::testing::run_command;
using ntks::testing::TempDir;
namespace fs = std::filesystem;

struct WarmupFixture {
  TempDir dir;
  std::string tokenizer = dir.write("tokenizer.json", ntks::testing::byte_tokenizer_json());
  std::string model = dir.file("model");
  std::string domain;
  WarmupFixture() {
    std::string d;
    for (int i = 0; i < 11; ++i)
      d += fmt::format("{{\"instruction\": \"Q{}?\", \"output\": \"A {} b{}\"}}\n", i, i * 7, i % 3);
    d += "{\"instruction\": \"no answer\", \"output\": \"\"}\n";  // skipped, and listed in skipped.jsonl
    domain = dir.write("domain.jsonl", d);
    // The byte tokenizer's ids go up to 263.
    auto r = run_command(fmt::format("{} make-model --arch llama --out {} --layers 2 --hidden 32 --intermediate 48 "
                                     "--heads 4 --kv-heads 2 --vocab 272 2>&1",
                                     NTKS_BINARY, model));
    EXPECT_EQ(r.status, 0) << r.output;
  }
  std::string run_dir(int np) const { return dir.file(fmt::format("run{}", np)); }
  ntks::testing::CommandResult warmup(int np, const std::string& extra = "") const {
    return run_command(fmt::format(
        "mpirun --oversubscribe -np {} {} warmup --set model.path={} --set model.tokenizer={} --set model.dtype=fp32 "
        "--set model.device=cpu --set data.domain={} --set data.on_error=skip --set run.dir={} --set lora.r=4 "
        "--set lora.dropout=0.1 --set warmup.epochs=2 --set warmup.batch_size=2 --set warmup.grad_accum=2 "
        "--set warmup.lr=1e-2 {} 2>&1",
        np, NTKS_BINARY, model, tokenizer, domain, run_dir(np), extra));
  }
};

TEST(WarmupCli, OneTwoAndThreeRanksTrainTheSameAdapter) {
  WarmupFixture f;
  std::vector<std::vector<at::Tensor>> adapters;
  std::vector<std::vector<nlohmann::json>> logs;
  for (int np : {1, 2, 3}) {
    auto r = f.warmup(np);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find(fmt::format("warmup: 11 samples, 2 epoch(s), 6 step(s) on {} rank(s)", np)),
              std::string::npos)
        << r.output;
    const fs::path out = fs::path(f.run_dir(np)) / "warmup";
    EXPECT_FALSE(fs::exists(f.run_dir(np) + "/warmup.partial"));
    EXPECT_TRUE(fs::exists(out / "adapter_config.json"));
    EXPECT_EQ(read_jsonl((out / "skipped.jsonl").string()).size(), 1u);
    logs.push_back(read_jsonl((out / "train_log.jsonl").string()));
    ASSERT_EQ(logs.back().size(), 6u);  // 2 epochs x ceil(11 / 4)
    EXPECT_EQ(logs.back()[2]["samples"], 3);  // each epoch's last step: the 3 samples left

    ntks::model::Decoder dec = ntks::model::Decoder::load(f.model, at::kFloat, at::kCPU);
    ntks::model::load_adapter(dec, out.string());
    EXPECT_EQ(dec.lora_spec().r, 4);
    adapters.push_back(dec.lora_parameters());
  }
  for (size_t run = 1; run < adapters.size(); ++run) {
    for (size_t s = 0; s < logs[0].size(); ++s)
      EXPECT_EQ(logs[run][s]["loss"].get<double>(), logs[0][s]["loss"].get<double>()) << run << " step " << s;
    // Bit for bit: fixed micro-batches, exact sums (train/exact_sum.h).
    for (size_t i = 0; i < adapters[0].size(); ++i)
      EXPECT_TRUE(torch::equal(adapters[run][i], adapters[0][i]))
          << "np " << run + 1 << " tensor " << i << ": " << (adapters[run][i] - adapters[0][i]).abs().max();
  }
  // Trained: B moved away from its zero start and the loss went down.
  EXPECT_GT(adapters[0][1].abs().max().item<double>(), 0);
  EXPECT_LT(logs[0].back()["loss"].get<double>(), logs[0].front()["loss"].get<double>());
}

TEST(WarmupCli, HelpAndConfigErrors) {
  auto r = run_command(fmt::format("{} warmup --help", NTKS_BINARY));
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.output.find("RUN/warmup/"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("warmup.grad_accum"), std::string::npos) << r.output;
  r = run_command(fmt::format("{} warmup --set data.domain=x.jsonl 2>&1", NTKS_BINARY));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("model.path"), std::string::npos) << r.output;
}

}  // namespace
