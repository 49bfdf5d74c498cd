// `ntk-select finetune` through the real binary: a tiny llama's LoRA adapter
// learns a small training set (the loss falls) and is handed over as a PEFT
// folder that loads; a rerun is up to date; a run stopped by SIGTERM or
// killed resumes to the same adapter bytes as an uninterrupted one; a
// checkpoint of another config is refused naming the key; 1 and 2 ranks
// train the same adapter bytes; the selection's mixture is
// checked against what select recorded.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>

#include "byte_tokenizer.h"
#include "jsonl_file.h"
#include "ntks/model/adapter.h"
#include "ntks/model/decoder.h"
#include "ntks/util/files.h"
#include "run_fixture.h"
#include "test_util.h"

namespace {

using ntks::testing::read_jsonl;
using ntks::testing::run_command;
using ntks::testing::TempDir;
namespace fs = std::filesystem;

// A random llama whose weights (std 0.2) let a small adapter move the
// logits far: the loss falls from about 7 to under 2 in 18 steps.
struct FinetuneFixture {
  TempDir dir;
  std::string tokenizer = dir.write("tokenizer.json", ntks::testing::byte_tokenizer_json());
  std::string model = dir.file("model");
  std::string data;
  FinetuneFixture() {
    std::string d;
    for (int i = 0; i < 21; ++i)
      d += fmt::format("{{\"instruction\": \"Q{}?\", \"output\": \"A {} b{}\"}}\n", i, i % 4, i % 3);
    d += "{\"instruction\": \"no answer\", \"output\": \"\"}\n";  // skipped, and listed in skipped.jsonl
    data = dir.write("train.jsonl", d);
    auto r = run_command(fmt::format("{} make-model --arch llama --out {} --layers 2 --hidden 32 --intermediate 48 "
                                     "--heads 4 --kv-heads 2 --vocab 272 --init-std 0.2 2>&1",
                                     NTKS_BINARY, model));
    EXPECT_EQ(r.status, 0) << r.output;
  }
  std::string out(const std::string& name) const { return dir.file(name); }
  // 21 samples, steps of 2 x 2: 6 steps an epoch, 3 epochs: 18 steps.
  ntks::testing::CommandResult finetune(const std::string& name, const std::string& extra = "",
                                        const std::string& launcher = "") const {
    return run_command(fmt::format(
        "{} {} finetune --set model.path={} --set model.tokenizer={} --set model.dtype=fp32 --set model.device=cpu "
        "--set finetune.data={} --set data.on_error=skip --set run.dir={} --set finetune.out={} --set lora.r=4 "
        "--set finetune.batch_size=2 --set finetune.grad_accum=2 --set finetune.lr=3e-2 "
        "--set finetune.checkpoint_every=5 {} 2>&1",
        launcher, NTKS_BINARY, model, tokenizer, data, dir.file("run"), out(name), extra));
  }
};

TEST(FinetuneCli, LearnsHandsOverAnAdapterAndIsUpToDateOnARerun) {
  FinetuneFixture f;
  auto r = f.finetune("a");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("finetune: 21 samples of"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("18 step(s) on 1 rank(s)"), std::string::npos) << r.output;
  const fs::path out = f.out("a");
  for (const char* file : {"adapter_config.json", "adapter_model.safetensors", "train_log.jsonl", "finetune.json",
                           "loss_curve.svg", "skipped.jsonl"})
    EXPECT_TRUE(fs::exists(out / file)) << file;
  EXPECT_FALSE(fs::exists(f.out("a") + ".partial"));
  EXPECT_FALSE(fs::exists(out / "checkpoints"));
  EXPECT_EQ(read_jsonl((out / "skipped.jsonl").string()).size(), 1u);
  const auto log = read_jsonl((out / "train_log.jsonl").string());
  ASSERT_EQ(log.size(), 18u);
  EXPECT_EQ(log[5]["samples"], 1);  // each epoch's last step: the sample left over
  // Learned: the last epoch's mean loss is well below the first's.
  double first = 0, last = 0;
  for (size_t s = 0; s < 6; ++s) first += log[s]["loss"].get<double>() / 6, last += log[12 + s]["loss"].get<double>() / 6;
  EXPECT_LT(last, 0.5 * first) << first << " -> " << last;
  const auto summary = nlohmann::json::parse(ntks::read_file((out / "finetune.json").string()));
  EXPECT_EQ(summary["steps"], 18);
  EXPECT_EQ(summary["samples"], 21);
  EXPECT_EQ(summary["skipped"], 1);
  EXPECT_EQ(summary["identity"]["config"]["finetune.lr"], "0.03");
  EXPECT_EQ(summary["identity"]["config"]["run.seed"], "42");  // finetune.seed 0: run.seed decides
  EXPECT_DOUBLE_EQ(summary["final_loss"].get<double>(), log.back()["loss"].get<double>());
  EXPECT_DOUBLE_EQ(summary["first_loss"].get<double>(), log.front()["loss"].get<double>());
  EXPECT_NE(ntks::read_file((out / "loss_curve.svg").string()).find("<polyline"), std::string::npos);
  // A PEFT folder that loads, with B trained away from its zero start.
  ntks::model::Decoder dec = ntks::model::Decoder::load(f.model, at::kFloat, at::kCPU);
  ntks::model::load_adapter(dec, out.string());
  EXPECT_EQ(dec.lora_spec().r, 4);
  EXPECT_GT(dec.lora_parameters()[1].abs().max().item<double>(), 0);

  r = f.finetune("a");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("up to date, skipped"), std::string::npos) << r.output;
  // checkpoint_every is not part of the identity; the learning rate is.
  r = f.finetune("a", "--set finetune.checkpoint_every=7");
  EXPECT_NE(r.output.find("up to date, skipped"), std::string::npos) << r.output;
  const std::string first_adapter = ntks::read_file((out / "adapter_model.safetensors").string());
  r = f.finetune("a", "--set finetune.seed=5");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output.find("up to date"), std::string::npos) << r.output;
  EXPECT_NE(ntks::read_file((out / "adapter_model.safetensors").string()), first_adapter);
}

TEST(FinetuneCli, ResumesAfterSigtermOrAKillToTheSameAdapter) {
  FinetuneFixture f;  // lora.dropout 0.05: the resumed masks must be the same too
  auto r = f.finetune("ref");
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string reference = ntks::read_file(f.out("ref") + "/adapter_model.safetensors");

  r = f.finetune("t", "", "NTKS_TEST_TERM_AFTER_BLOCKS=8");
  ASSERT_EQ(r.status, 75) << r.output;
  EXPECT_NE(r.output.find("stopped by a signal after step 8 of 18"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(f.out("t")));
  const fs::path ckpt = f.out("t") + ".partial/checkpoints/step-0000008";
  for (const char* file : {"adapter_config.json", "adapter_model.safetensors", "optimizer.safetensors", "state.json"})
    EXPECT_TRUE(fs::exists(ckpt / file)) << file;
  EXPECT_FALSE(fs::exists(ckpt / "model.safetensors"));  // the adapter, not the model
  r = f.finetune("t");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("continued after step 8"), std::string::npos) << r.output;
  EXPECT_EQ(ntks::read_file(f.out("t") + "/adapter_model.safetensors"), reference);
  auto log = read_jsonl(f.out("t") + "/train_log.jsonl");
  ASSERT_EQ(log.size(), 18u);
  for (size_t i = 0; i < log.size(); ++i) EXPECT_EQ(log[i]["step"], static_cast<int>(i) + 1);

  // SIGKILL after step 12: the checkpoint of step 10 (every 5) is the newest.
  r = f.finetune("k", "", "NTKS_TEST_KILL_AFTER_STEPS=12");
  ASSERT_NE(r.status, 0) << r.output;
  EXPECT_TRUE(fs::exists(f.out("k") + ".partial/checkpoints/step-0000010"));
  r = f.finetune("k");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("continued after step 10"), std::string::npos) << r.output;
  EXPECT_EQ(ntks::read_file(f.out("k") + "/adapter_model.safetensors"), reference);
  log = read_jsonl(f.out("k") + "/train_log.jsonl");
  ASSERT_EQ(log.size(), 18u);
  for (size_t i = 0; i < log.size(); ++i) EXPECT_EQ(log[i]["step"], static_cast<int>(i) + 1);
}

TEST(FinetuneCli, ACheckpointOfAnotherConfigIsRefusedUntilRestart) {
  FinetuneFixture f;
  auto r = f.finetune("c", "", "NTKS_TEST_TERM_AFTER_BLOCKS=4");
  ASSERT_EQ(r.status, 75) << r.output;
  r = f.finetune("c", "--set finetune.lr=0.02");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("finetune.lr: 0.03 -> 0.02"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--restart"), std::string::npos) << r.output;
  r = f.finetune("c", "--set lora.r=8");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("lora.r: 4 -> 8"), std::string::npos) << r.output;
  // The training file is part of it too, by content.
  std::ofstream(f.data, std::ios::app) << "{\"instruction\": \"Q99?\", \"output\": \"A 9\"}\n";
  r = f.finetune("c");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("finetune.data " + fs::absolute(f.data).lexically_normal().string() + " changed"),
            std::string::npos)
      << r.output;
  r = f.finetune("c", "--set finetune.lr=0.02 --restart");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output.find("continued after"), std::string::npos) << r.output;
}

TEST(FinetuneCli, OneAndTwoRanksTrainTheSameAdapter) {
  FinetuneFixture f;
  std::vector<std::vector<at::Tensor>> adapters;
  std::vector<std::vector<nlohmann::json>> logs;
  for (int np : {1, 2}) {
    const std::string name = fmt::format("np{}", np);
    auto r = f.finetune(name, "--set lora.dropout=0.1", fmt::format("mpirun --oversubscribe -np {}", np));
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find(fmt::format("on {} rank(s)", np)), std::string::npos) << r.output;
    logs.push_back(read_jsonl(f.out(name) + "/train_log.jsonl"));
    ntks::model::Decoder dec = ntks::model::Decoder::load(f.model, at::kFloat, at::kCPU);
    ntks::model::load_adapter(dec, f.out(name));
    adapters.push_back(dec.lora_parameters());
  }
  ASSERT_EQ(logs[0].size(), logs[1].size());
  for (size_t s = 0; s < logs[0].size(); ++s)
    EXPECT_EQ(logs[1][s]["loss"].get<double>(), logs[0][s]["loss"].get<double>()) << "step " << s + 1;
  // With dropout, bit for bit (train/exact_sum.h).
  for (size_t i = 0; i < adapters[0].size(); ++i)
    EXPECT_TRUE(torch::equal(adapters[1][i], adapters[0][i]))
        << "tensor " << i << ": " << (adapters[1][i] - adapters[0][i]).abs().max().item<double>();
}

TEST(FinetuneCli, TrainsOnTheSelectionsMixtureAndRefusesOneChangedSince) {
  ntks::testing::run::RunFixture f;
  auto r = f.ntks("r", "run");
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string mixture = f.run_dir("r") + "/select/mixture.jsonl";
  const auto report = nlohmann::json::parse(ntks::read_file(f.run_dir("r") + "/select/report.json"));
  EXPECT_EQ(report["mixture"]["bytes"], fs::file_size(mixture));
  r = f.ntks("r", "finetune --set finetune.epochs=1 --set finetune.batch_size=4 --set finetune.grad_accum=1");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("finetune: 12 samples of " + mixture), std::string::npos) << r.output;  // 6 + 6
  EXPECT_TRUE(fs::exists(f.run_dir("r") + "/finetune/adapter/adapter_model.safetensors"));

  // One line less: no longer the bytes select wrote.
  std::string text = ntks::read_file(mixture);
  ntks::write_file_atomic(mixture, text.substr(text.find('\n') + 1));
  r = f.ntks("r", "finetune --force --set finetune.epochs=1");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find(mixture + " no longer holds the lines `ntk-select select` wrote"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("finetune.data"), std::string::npos) << r.output;
  // Named explicitly, the same file is taken as it is.
  r = f.ntks("r", fmt::format("finetune --set finetune.epochs=1 --set finetune.data={}", mixture));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("finetune: 11 samples"), std::string::npos) << r.output;
  // Without a complete selection.
  fs::remove(f.run_dir("r") + "/select/report.json");
  r = f.ntks("r", "finetune --force");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("report.json is missing"), std::string::npos) << r.output;
}

TEST(FinetuneCli, BadInputIsNamed) {
  FinetuneFixture f;
  auto r = f.finetune("x", fmt::format("--set finetune.data={}", f.dir.file("nothing.jsonl")));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("nothing.jsonl: no such file (finetune.data)"), std::string::npos) << r.output;
  r = f.finetune("x", "--set 'finetune.data=\"\"'");  // the default: RUN/select/mixture.jsonl, not made
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("select/mixture.jsonl is missing"), std::string::npos) << r.output;
  // finetune.out naming a folder that is not an adapter's is not replaced.
  fs::create_directories(f.dir.file("precious"));
  f.dir.write("precious/keep.txt", "x");
  r = f.finetune("precious");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("is not an adapter folder"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::exists(f.dir.file("precious/keep.txt")));
  r = f.finetune("x", "--set finetune.batch_size=0");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("finetune.batch_size"), std::string::npos) << r.output;
  r = run_command(fmt::format("{} finetune --set finetune.data=x.jsonl 2>&1", NTKS_BINARY));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("model.path"), std::string::npos) << r.output;
  r = run_command(fmt::format("{} finetune --help", NTKS_BINARY));
  EXPECT_EQ(r.status, 0);
  for (const char* key : {"finetune.data", "RUN/select/mixture.jsonl", "finetune.checkpoint_every", "--restart",
                          "adapter_model.safetensors", "finetune.json", "75"})
    EXPECT_NE(r.output.find(key), std::string::npos) << key;
}

}  // namespace
