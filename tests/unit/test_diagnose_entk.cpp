// `ntk-select diagnose entk` on a tiny random llama: the kernel regression's
// choice of lambda and accuracies against the Python reference (its own
// gradients of the option samples the command wrote, numpy solves), the
// fine-tuning accuracy against `ntk-select evaluate` on the same split, and
// its errors for impossible requests.

#include <gtest/gtest.h>

#include <filesystem>

#include "test_diagnose_fixture.h"

namespace {

using ntks::testing::diagnose::DiagnoseFixture;
using ntks::testing::diagnose::read_json;
namespace fs = std::filesystem;

// `n` questions of three options, the right one at i % 3.
std::string labelled(const DiagnoseFixture& f, int n, bool last_unlabelled = false) {
  std::string text;
  for (int i = 0; i < n; ++i) {
    const std::vector<std::string> options = {fmt::format("a{}", i % 5), fmt::format("bb{}", i % 4),
                                              fmt::format("c{}c", i % 3)};
    nlohmann::json line = {{"instruction", fmt::format("Which one is {}?", i % 3 == 0 ? "short" : "long")},
                           {"output", options[static_cast<size_t>(i % 3)]}};
    if (!(last_unlabelled && i + 1 == n)) line["options"] = options, line["answer"] = i % 3;
    text += line.dump() + "\n";
  }
  return f.dir.write("labelled.jsonl", text);
}

constexpr const char* kFinetune =
    "--set finetune.epochs=2 --set finetune.batch_size=4 --set finetune.grad_accum=1 --set finetune.lr=3e-2";

TEST(DiagnoseEntk, RegressionMatchesTheReferenceAndFinetuningMatchesEvaluate) {
  DiagnoseFixture f;
  const std::string data = labelled(f, 20);
  auto r = f.ntks(fmt::format("diagnose entk --data {} --adapter {} --dim 64 --set grads.seed=3 "
                              "--set grads.output=log_likelihood --lambdas 1e-3,1e-2,1e-1,1 {}",
                              data, f.adapter, kFinetune));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("diagnose entk: 20 questions (7 fit, 3 val, 10 test, 60 option samples)"),
            std::string::npos)
      << r.output;
  const std::string dir = f.run_dir() + "/diagnose";
  const auto j = read_json(dir + "/entk.json");
  EXPECT_TRUE(fs::exists(dir + "/entk.svg"));
  const auto ref = f.reference(fmt::format("entk {} {} {}/entk/options.jsonl {}/entk.json log_likelihood 1 64 3",
                                           f.model, f.adapter, dir, dir));
  EXPECT_EQ(j["val_accuracy"], ref["val_accuracy"]);
  EXPECT_EQ(j["lambda"], ref["lambda"]);
  EXPECT_DOUBLE_EQ(j["entk_accuracy"].get<double>(), ref["entk_accuracy"].get<double>());
  EXPECT_NEAR(j["chance_accuracy"].get<double>(), 1.0 / 3, 1e-12);

  // The fine-tuned adapter scored on the written test split by `evaluate`.
  r = f.ntks(fmt::format("evaluate --test {}/entk/test.jsonl --adapter {}/entk/adapter --out {}/eval.json", dir, dir,
                         f.dir.file("")));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_DOUBLE_EQ(j["finetune_accuracy"].get<double>(), read_json(f.dir.file("eval.json"))["accuracy"].get<double>());
  std::cout << "tiny random llama, 20 questions: eNTK " << j["entk_accuracy"] << " (lambda " << j["lambda"]
            << "), fine-tuning " << j["finetune_accuracy"] << ", chance " << j["chance_accuracy"] << "\n";

  // The default adapter is the fine-tune's start; --no-finetune leaves the comparison out.
  r = f.ntks(fmt::format("diagnose entk --data {} --dim 64 --no-finetune --out {}", data, f.dir.file("init.json")));
  ASSERT_EQ(r.status, 0) << r.output;
  const auto init = read_json(f.dir.file("init.json"));
  EXPECT_EQ(init["adapter"], "init");
  EXPECT_TRUE(init["finetune_accuracy"].is_null());
}

TEST(DiagnoseEntk, RefusesUnlabelledLinesTooFewQuestionsAndKernelsAboveTheMemoryLimit) {
  DiagnoseFixture f;
  std::string data = labelled(f, 6, true);
  auto r = f.ntks(fmt::format("diagnose entk --data {} --no-finetune", data));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("labelled.jsonl:6: no \"options\""), std::string::npos) << r.output;
  data = labelled(f, 2);
  r = f.ntks(fmt::format("diagnose entk --data {} --no-finetune", data));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("each part needs at least one"), std::string::npos) << r.output;
  data = labelled(f, 8);
  r = f.ntks(fmt::format("diagnose entk --data {} --no-finetune --dim 0 --max-memory 1e-5", data));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("diagnose entk: the request needs about"), std::string::npos) << r.output;
  r = f.ntks(fmt::format("diagnose entk --data {} --no-finetune --lambdas 1e-3,x", data));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("'x' is not a number"), std::string::npos) << r.output;
}

}  // namespace
