// The binary as users run it: help, version, build info, config dump and
// the errors a user sees for mistakes.

#include <gtest/gtest.h>

#include <filesystem>

#include "test_util.h"

using ntks::testing::run_command;
using ntks::testing::TempDir;

namespace {

const std::string kBin = NTKS_BINARY;

TEST(Cli, HelpListsCommandsAndGlobalFlags) {
  auto r = run_command(kBin + " --help");
  EXPECT_EQ(r.status, 0) << r.output;
  for (const char* s : {"config", "selfcheck", "make-model", "forward", "bench", "--build-info", "--version"})
    EXPECT_NE(r.output.find(s), std::string::npos) << s << "\n" << r.output;
}

TEST(Cli, CommandHelpExplainsEveryOption) {
  auto r = run_command(kBin + " config --help");
  EXPECT_EQ(r.status, 0) << r.output;
  for (const char* s : {"--dump", "--hash", "--keys", "--config", "--set", "--log-level", "--progress-interval", "--dist"})
    EXPECT_NE(r.output.find(s), std::string::npos) << s << "\n" << r.output;
}

TEST(Cli, HelpWorksForCommandsWithRequiredOptions) {
  for (const char* cmd : {"forward", "make-model", "tokenize"}) {
    auto r = run_command(kBin + " " + cmd + " --help");
    EXPECT_EQ(r.status, 0) << cmd << "\n" << r.output;
    EXPECT_NE(r.output.find("Usage: ntk-select " + std::string(cmd)), std::string::npos) << r.output;
  }
  auto r = run_command(kBin + " forward --input x.jsonl");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("'--model' is required"), std::string::npos) << r.output;
}

TEST(Cli, VersionAndBuildInfo) {
  auto v = run_command(kBin + " --version");
  EXPECT_EQ(v.status, 0);
  EXPECT_EQ(v.output.rfind("ntk-select ", 0), 0u) << v.output;
  auto b = run_command(kBin + " --build-info");
  EXPECT_EQ(b.status, 0) << b.output;
  for (const char* s : {"LibTorch    1.", "Faiss       1.", "MPI         Open MPI", "HDF5        1.", "NCCL", "CUDA"})
    EXPECT_NE(b.output.find(s), std::string::npos) << s << "\n" << b.output;
}

TEST(Cli, ConfigDumpAppliesFileAndSetAndReloads) {
  TempDir dir;
  std::string file = dir.write("c.yaml", "grads: {dim: 2048}\n");
  auto r = run_command(kBin + " config --dump --config " + file + " --set select.size=77 2>/dev/null");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("  dim: 2048"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("  size: 77"), std::string::npos) << r.output;
  // The dump is valid --config input with the same hash.
  std::string dumped = dir.write("dump.yaml", r.output);
  auto h1 = run_command(kBin + " config --hash --config " + dumped + " 2>/dev/null");
  auto h2 = run_command(kBin + " config --hash --config " + file + " --set select.size=77 2>/dev/null");
  EXPECT_EQ(h1.output, h2.output);
  EXPECT_EQ(h1.output.size(), 17u) << h1.output;
}

TEST(Cli, MistakesExitTwoWithAMessage) {
  auto r = run_command(kBin + " confg");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("did you mean 'config'"), std::string::npos) << r.output;
  r = run_command(kBin + " config --bogus");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("bogus"), std::string::npos) << r.output;
  r = run_command(kBin + " config --set grads.dimm=3");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("did you mean 'grads.dim'"), std::string::npos) << r.output;
  r = run_command(kBin);
  EXPECT_EQ(r.status, 2);
}

TEST(Cli, MakeModelAndForwardWriteTheDocumentedDatasets) {
  TempDir dir;
  auto r = run_command(kBin + " make-model --arch llama --out " + dir.file("m") + " --layers 1 --hidden 16 --heads 2 "
                       "--kv-heads 1 --vocab 40 --intermediate 24");
  ASSERT_EQ(r.status, 0) << r.output;
  std::string in = dir.write("in.jsonl", "{\"ids\": [1, 2, 3]}\n\n{\"ids\": [39]}\n");
  r = run_command(kBin + " forward --model " + dir.file("m") + " --input " + in + " --out " + dir.file("o.h5") +
                  " --logits --dtype fp32");
  ASSERT_EQ(r.status, 0) << r.output;
  r = run_command("h5ls " + dir.file("o.h5"));
  EXPECT_NE(r.output.find("embeddings               Dataset {2, 16}"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("last_hidden              Dataset {2, 3, 16}"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("logits                   Dataset {2, 3, 40}"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("lengths                  Dataset {2}"), std::string::npos) << r.output;

  std::string bad = dir.write("bad.jsonl", "{\"ids\": [1]}\n{\"ids\": [40]}\n");
  r = run_command(kBin + " forward --model " + dir.file("m") + " --input " + bad + " --out " + dir.file("x.h5"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("bad.jsonl:2: token id 40 is not in [0, 40)"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.h5")));
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.h5.partial")));
}

TEST(Cli, Fp16OnCpuIsRefusedClearlyWhereLibTorchLacksIt) {
  TempDir dir;
  auto r = run_command(kBin + " make-model --arch qwen3 --out " + dir.file("m") + " --layers 1 --hidden 16 --heads 2 "
                       "--kv-heads 1 --vocab 40 --intermediate 24");
  ASSERT_EQ(r.status, 0) << r.output;
  std::string in = dir.write("in.jsonl", "{\"ids\": [1, 2, 3]}\n");
  r = run_command(kBin + " forward --model " + dir.file("m") + " --input " + in + " --out " + dir.file("o.h5") +
                  " --dtype fp16 --set model.device=cpu");
  if (r.status == 0) GTEST_SKIP() << "this LibTorch multiplies fp16 on CPU";
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("cannot multiply Half matrices on cpu"), std::string::npos) << r.output;
}

TEST(Cli, SelfcheckPassesOnOneProcess) {
  auto r = run_command(kBin + " selfcheck --dist local");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("selfcheck passed: 1 rank(s)"), std::string::npos) << r.output;
}

}  // namespace

namespace {

// --dtype means the same everywhere and a wrong one names the option and the choices.
TEST(Cli, DtypeOptionIsParsedAlikeByEveryCommand) {
  ntks::testing::TempDir dir;
  for (const std::string& args : {std::string("make-model --arch llama --out ") + dir.file("m"),
                                  std::string("bench --what gemm"),
                                  std::string("forward --model m --input i --out o")}) {
    auto r = ntks::testing::run_command(std::string(NTKS_BINARY) + " " + args + " --dtype fp8 2>&1");
    EXPECT_EQ(r.status, 2) << args << ": " << r.output;
    EXPECT_NE(r.output.find("--dtype 'fp8': expected bf16, fp16 or fp32"), std::string::npos) << args << ": " << r.output;
  }
}

}  // namespace
