// `ntk-select pretrain` through the real binary: a tiny llama trained from
// scratch on generated text learns (held-out perplexity falls), hands over a
// complete Hugging Face folder, skips when up to date, resumes after SIGTERM
// to the same bytes as an uninterrupted run, refuses a checkpoint of another
// config, and gives the same weights on 1 and 2 ranks up to summation order.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>

#include "byte_tokenizer.h"
#include "ntks/model/decoder.h"
#include "ntks/util/files.h"
#include "test_util.h"
#include "jsonl_file.h"

using ntks::testing::read_jsonl;

namespace {

using ntks::testing::run_command;
using ntks::testing::TempDir;
namespace fs = std::filesystem;

// Sentences of a small grammar: enough structure for a 2-layer model to
// learn well within a few dozen steps.
std::string corpus_text(int documents) {
  const char* subjects[] = {"the cat", "a dog", "my friend", "the doctor", "our teacher"};
  const char* verbs[] = {"sees", "likes", "helps", "finds"};
  const char* objects[] = {"the ball", "a book", "the garden", "some water"};
  std::string out;
  for (int i = 0; i < documents; ++i) {
    std::string text;
    for (int s = 0; s < 3; ++s)
      text += fmt::format("{} {} {}. ", subjects[(i + s) % 5], verbs[(i * 3 + s) % 4], objects[(i + 2 * s) % 4]);
    out += nlohmann::json{{"text", text}}.dump() + "\n";
  }
  return out;
}

struct PretrainFixture {
  TempDir dir;
  std::string tokenizer;
  std::string init = dir.file("init");
  std::string corpus;
  PretrainFixture() {
    fs::create_directories(dir.file("tok"));
    tokenizer = dir.write("tok/tokenizer.json", ntks::testing::byte_tokenizer_json());
    corpus = dir.write("corpus.jsonl", corpus_text(300));
    auto r = run_command(fmt::format("{} make-model --arch llama --out {} --layers 2 --hidden 32 --intermediate 64 "
                                     "--heads 4 --kv-heads 2 --tied --pretrain-init --tokenizer {} --max-position 64 2>&1",
                                     NTKS_BINARY, init, tokenizer));
    EXPECT_EQ(r.status, 0) << r.output;
  }
  std::string run_dir(const std::string& name) const { return dir.file(name); }
  std::string model_dir(const std::string& name) const { return dir.file(name) + "/pretrain/model"; }
  ntks::testing::CommandResult pretrain(const std::string& name, const std::string& extra = "",
                                        const std::string& launcher = "") const {
    return run_command(fmt::format(
        "{} {} pretrain --set model.path={} --set model.tokenizer={} --set model.dtype=fp32 --set model.device=cpu "
        "--set pretrain.corpus=[{}] --set run.dir={} --set pretrain.seq_len=32 --set pretrain.batch_size=4 "
        "--set pretrain.grad_accum=2 --set pretrain.max_steps=24 --set pretrain.lr=0.01 --set pretrain.eval_share=0.1 "
        "--set pretrain.eval_every=8 --set pretrain.checkpoint_every=5 {} 2>&1",
        launcher, NTKS_BINARY, init, tokenizer, corpus, run_dir(name), extra));
  }
};

TEST(PretrainCli, LearnsHandsOverAFolderSkipsAndResumesToTheSameBytes) {
  PretrainFixture f;
  auto r = f.pretrain("a");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("pretrain: "), std::string::npos) << r.output;
  const fs::path model = f.model_dir("a");
  for (const char* file : {"config.json", "model.safetensors", "tokenizer.json", "pretrain.json"})
    EXPECT_TRUE(fs::exists(model / file)) << file;
  EXPECT_FALSE(fs::exists(f.run_dir("a") + "/pretrain/checkpoints"));
  const auto summary = nlohmann::json::parse(ntks::read_file((model / "pretrain.json").string()));
  EXPECT_EQ(summary["steps"], 24);
  const auto evals = read_jsonl(f.run_dir("a") + "/pretrain/eval_log.jsonl");
  ASSERT_EQ(evals.size(), 4u);  // before training, after steps 8, 16 and 24
  EXPECT_EQ(evals.front()["step"], 0);
  // Learned: the held-out perplexity fell well below its start (about the vocabulary size).
  EXPECT_LT(evals.back()["perplexity"].get<double>(), 0.25 * evals.front()["perplexity"].get<double>())
      << evals.front() << " " << evals.back();
  EXPECT_NEAR(summary["held_out_perplexity"].get<double>(), evals.back()["perplexity"].get<double>(), 1e-9);
  EXPECT_EQ(read_jsonl(f.run_dir("a") + "/pretrain/train_log.jsonl").size(), 24u);
  const std::string svg = ntks::read_file(f.run_dir("a") + "/pretrain/loss_curve.svg");
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("<polyline"), std::string::npos);
  // The folder is a model.
  ntks::model::Decoder dec = ntks::model::Decoder::load(model.string(), at::kFloat, at::kCPU);
  EXPECT_EQ(dec.config().vocab_size, 320);  // the byte tokenizer's 265 ids, rounded up to 64

  r = f.pretrain("a");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("up to date, skipped"), std::string::npos) << r.output;

  // Stopped by SIGTERM at step 12 (the 12th poll), resumed: the same bytes.
  r = f.pretrain("b", "", "NTKS_TEST_TERM_AFTER_BLOCKS=12");
  ASSERT_EQ(r.status, 75) << r.output;
  EXPECT_NE(r.output.find("stopped by a signal after step 12 of 24"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(f.model_dir("b")));
  EXPECT_TRUE(fs::exists(f.run_dir("b") + "/pretrain/checkpoints/step-0000012/model.safetensors"));
  r = f.pretrain("b");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("continued after step 12"), std::string::npos) << r.output;
  EXPECT_EQ(ntks::read_file(f.model_dir("b") + "/model.safetensors"),
            ntks::read_file(f.model_dir("a") + "/model.safetensors"));
  const auto log = read_jsonl(f.run_dir("b") + "/pretrain/train_log.jsonl");
  ASSERT_EQ(log.size(), 24u);
  for (size_t i = 0; i < log.size(); ++i) EXPECT_EQ(log[i]["step"], static_cast<int>(i) + 1);
}

TEST(PretrainCli, AKilledRunContinuesFromItsLastCheckpointToTheSameBytes) {
  PretrainFixture f;
  auto r = f.pretrain("ref");
  ASSERT_EQ(r.status, 0) << r.output;
  // SIGKILL after step 13: the checkpoint of step 10 is the newest (every 5 steps).
  r = f.pretrain("k", "", "NTKS_TEST_KILL_AFTER_STEPS=13");
  ASSERT_NE(r.status, 0) << r.output;
  EXPECT_FALSE(fs::exists(f.model_dir("k")));
  EXPECT_TRUE(fs::exists(f.run_dir("k") + "/pretrain/checkpoints/step-0000010"));
  EXPECT_EQ(read_jsonl(f.run_dir("k") + "/pretrain/train_log.jsonl").size(), 13u);
  r = f.pretrain("k");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("continued after step 10"), std::string::npos) << r.output;
  EXPECT_EQ(ntks::read_file(f.model_dir("k") + "/model.safetensors"),
            ntks::read_file(f.model_dir("ref") + "/model.safetensors"));
  // The log was cut back to step 10 and continued: every step once.
  const auto log = read_jsonl(f.run_dir("k") + "/pretrain/train_log.jsonl");
  ASSERT_EQ(log.size(), 24u);
  for (size_t i = 0; i < log.size(); ++i) EXPECT_EQ(log[i]["step"], static_cast<int>(i) + 1);
}

TEST(PretrainCli, ACheckpointOfAnotherConfigIsRefusedUntilRestart) {
  PretrainFixture f;
  auto r = f.pretrain("c", "", "NTKS_TEST_TERM_AFTER_BLOCKS=7");
  ASSERT_EQ(r.status, 75) << r.output;
  r = f.pretrain("c", "--set pretrain.lr=0.02");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("pretrain.lr: 0.01 -> 0.02"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--restart"), std::string::npos) << r.output;
  r = f.pretrain("c", "--set pretrain.lr=0.02 --restart");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output.find("continued after"), std::string::npos) << r.output;
  // Reporting keys are not part of the identity: the model stays up to date.
  r = f.pretrain("c", "--set pretrain.lr=0.02 --set pretrain.eval_every=3");
  EXPECT_NE(r.output.find("up to date, skipped"), std::string::npos) << r.output;
}

TEST(PretrainCli, TwoRanksTrainTheSameWeightsAsOne) {
  PretrainFixture f;
  auto r1 = f.pretrain("np1", "", "mpirun --oversubscribe -np 1");
  ASSERT_EQ(r1.status, 0) << r1.output;
  auto r2 = f.pretrain("np2", "", "mpirun --oversubscribe -np 2");
  ASSERT_EQ(r2.status, 0) << r2.output;
  EXPECT_NE(r2.output.find("on 2 rank(s)"), std::string::npos) << r2.output;
  const auto a = ntks::model::Decoder::load(f.model_dir("np1"), at::kFloat, at::kCPU).named_weights();
  const auto b = ntks::model::Decoder::load(f.model_dir("np2"), at::kFloat, at::kCPU).named_weights();
  ASSERT_EQ(a.size(), b.size());
  // Micro-batches fixed by the step and gradients summed exactly
  // (train/exact_sum.h): the same bits on any rank count.
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_TRUE(torch::equal(a[i].second, b[i].second))
        << a[i].first.name << ": " << (a[i].second - b[i].second).abs().max();
  const auto la = read_jsonl(f.run_dir("np1") + "/pretrain/train_log.jsonl");
  const auto lb = read_jsonl(f.run_dir("np2") + "/pretrain/train_log.jsonl");
  ASSERT_EQ(la.size(), lb.size());
  for (size_t s = 0; s < la.size(); ++s)
    EXPECT_EQ(la[s]["loss"].get<double>(), lb[s]["loss"].get<double>()) << "step " << s + 1;
}

TEST(PretrainCli, BadInputIsNamed) {
  PretrainFixture f;
  // A model whose vocabulary is smaller than the tokenizer's.
  auto r = run_command(fmt::format("{} make-model --arch llama --out {} --layers 1 --hidden 16 --intermediate 32 "
                                   "--heads 2 --kv-heads 1 --vocab 200 --max-position 64 2>&1",
                                   NTKS_BINARY, f.dir.file("small")));
  ASSERT_EQ(r.status, 0) << r.output;
  r = f.pretrain("d", fmt::format("--set model.path={}", f.dir.file("small")));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("the model does not fit the tokenizer"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("vocab_size 200"), std::string::npos) << r.output;
  r = f.pretrain("d", "--set pretrain.seq_len=128");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("pretrain.seq_len 128 exceeds max_position_embeddings 64"), std::string::npos) << r.output;
  r = f.pretrain("d", fmt::format("--set pretrain.corpus=[{}]", f.dir.file("nothing.jsonl")));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("nothing.jsonl: no such file (pretrain.corpus)"), std::string::npos) << r.output;
  f.dir.write("empty.jsonl", "\n");
  r = f.pretrain("d", fmt::format("--set pretrain.corpus=[{}]", f.dir.file("empty.jsonl")));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("fewer than one training sequence"), std::string::npos) << r.output;
  r = run_command(fmt::format("{} pretrain --set pretrain.batch_size=0 2>&1", NTKS_BINARY));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("pretrain.batch_size"), std::string::npos) << r.output;
  r = run_command(fmt::format("{} pretrain --help", NTKS_BINARY));
  EXPECT_EQ(r.status, 0);
  for (const char* key : {"pretrain.corpus", "pretrain.checkpoint_every", "--restart", "loss_curve.svg", "75"})
    EXPECT_NE(r.output.find(key), std::string::npos) << key;
}

}  // namespace
