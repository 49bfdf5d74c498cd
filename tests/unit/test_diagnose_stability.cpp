// `ntk-select diagnose stability` on the snapshots of a real fine-tune of a
// tiny random llama (`finetune --keep-adapters`), against the Python
// reference's per-sample autograd kernels; its errors when there is nothing
// to compare or too many samples are asked for.

#include <gtest/gtest.h>

#include <filesystem>

#include "test_diagnose_fixture.h"

namespace {

using ntks::testing::diagnose::DiagnoseFixture;
using ntks::testing::diagnose::read_json;
using ntks::testing::diagnose::relative_error;
namespace fs = std::filesystem;

struct StabilityFixture : DiagnoseFixture {
  std::string domain = pretokenized("domain.jsonl", 6, 1), candidates = pretokenized("candidates.jsonl", 4, 2);
  std::string data = fmt::format("--set data.domain={} --set data.candidates=[{}] ", domain, candidates);
  ntks::testing::CommandResult ntks_data(const std::string& args) const { return ntks(args + " " + data); }
  // 6 samples, steps of 2: 3 steps an epoch, 2 epochs; snapshots at 0, 2, 4, 6.
  ntks::testing::CommandResult finetune() const {
    return ntks_data(fmt::format("finetune --set finetune.data={} --set finetune.out={} --set finetune.epochs=2 "
                                   "--set finetune.batch_size=2 --set finetune.grad_accum=1 --set finetune.lr=5e-2 "
                                   "--set finetune.warmup_ratio=0 --keep-adapters 2",
                                   domain, dir.file("ft")));
  }
};

TEST(DiagnoseStability, FinetuneKeepsSnapshotsAndTheCosinesMatchAnIndependentComputation) {
  StabilityFixture f;
  auto r = f.finetune();
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* step : {"step-0000000", "step-0000002", "step-0000004", "step-0000006"})
    EXPECT_TRUE(fs::exists(f.dir.path() / "ft" / "snapshots" / step / "adapter_model.safetensors")) << step;
  // The snapshot of the last step is the adapter itself.
  EXPECT_EQ(ntks::read_file(f.dir.file("ft/snapshots/step-0000006/adapter_model.safetensors")),
            ntks::read_file(f.dir.file("ft/adapter_model.safetensors")));
  // A finished adapter with snapshots is up to date.
  r = f.finetune();
  EXPECT_NE(r.output.find("up to date, skipped"), std::string::npos) << r.output;

  for (const auto& [dim, extra] : {std::pair{0, ""}, std::pair{64, "--set grads.output=log_likelihood"}}) {
    r = f.ntks_data(fmt::format("diagnose stability --set finetune.out={} --domain-samples 6 "
                                    "--candidate-samples 4 --dim {} --set grads.seed=9 {}",
                                    f.dir.file("ft"), dim, extra));
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("diagnose stability: 10 samples (6 domain, 4 candidates), 4 adapters against "
                            "step-0000000: min Frobenius cosine"),
              std::string::npos)
        << r.output;
    const auto j = read_json(f.run_dir() + "/diagnose/stability.json");
    EXPECT_TRUE(fs::exists(f.run_dir() + "/diagnose/stability.svg"));
    std::string snapshots;
    for (const char* step : {"step-0000000", "step-0000002", "step-0000004", "step-0000006"})
      snapshots += " " + f.dir.file("ft/snapshots/") + step;
    const auto ref = f.reference(fmt::format("stability {} {},{} {} 1 {} 9{}", f.model, f.domain, f.candidates,
                                             dim ? "log_likelihood" : "logit_sum", dim, snapshots));
    ASSERT_EQ(j["checkpoints"].size(), 4u);
    for (size_t i = 0; i < 4; ++i) {
      EXPECT_LT(relative_error(j["checkpoints"][i]["kernel"], ref["kernels"][i]), 1e-4) << i;
      EXPECT_NEAR(j["checkpoints"][i]["cosine"].get<double>(), ref["cosines"][i].get<double>(), 1e-6) << i;
      EXPECT_NEAR(j["checkpoints"][i]["a_share"].get<double>(), ref["a_shares"][i].get<double>(), 1e-5) << i;
    }
    EXPECT_EQ(j["checkpoints"][0]["a_share"].get<double>(), 0.0);  // B = 0 at the start: no lora_A gradient
    EXPECT_NEAR(j["min_cosine"].get<double>(), ref["min_cosine"].get<double>(), 1e-6);
    EXPECT_NEAR(j["epsilon"].get<double>(), 1 - j["min_cosine"].get<double>(), 1e-12);
    EXPECT_EQ(j["reference"], "step-0000000");
    EXPECT_LT(j["min_cosine"].get<double>(), 1.0);
    std::cout << "dim " << dim << ": cosines";
    for (const auto& c : j["checkpoints"]) std::cout << " " << c["cosine"] << " (A share " << c["a_share"] << ")";
    std::cout << ", min " << j["min_cosine"] << "\n";
  }
  // --adapters: init is the fine-tune's start, bitwise the step-0 snapshot's kernel.
  r = f.ntks_data(fmt::format("diagnose stability --adapters init {} {} --domain-samples 6 --candidate-samples 0 "
                              "--dim 64 --out {}",
                              f.dir.file("ft/snapshots/step-0000000"), f.dir.file("ft"), f.dir.file("three.json")));
  ASSERT_EQ(r.status, 0) << r.output;
  const auto three = read_json(f.dir.file("three.json"));
  EXPECT_EQ(three["checkpoints"][0]["name"], "init");
  EXPECT_EQ(three["checkpoints"][1]["name"], "step-0000000");
  EXPECT_EQ(three["checkpoints"][1]["step"], 0);
  EXPECT_EQ(three["checkpoints"][2]["name"], "ft");
  EXPECT_EQ(three["checkpoints"][0]["kernel"], three["checkpoints"][1]["kernel"]);
  EXPECT_TRUE(fs::exists(f.dir.file("three.svg")));
}

TEST(DiagnoseStability, RefusesWhenThereIsNothingToCompareOrTooFewRecords) {
  StabilityFixture f;
  auto r = f.ntks_data("diagnose stability --set finetune.out=" + f.dir.file("none"));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("none/snapshots: no such folder of adapters"), std::string::npos) << r.output;
  r = f.ntks_data("diagnose stability --adapters " + f.adapter);
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("1 adapter(s) found, nothing to compare"), std::string::npos) << r.output;
  r = f.ntks_data("diagnose stability --adapters init " + f.adapter + " --domain-samples 7");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("--domain-samples 7 of " + f.domain + ": the data holds only 6 record(s)"),
            std::string::npos)
      << r.output;
  r = f.ntks_data("diagnose stability --adapters init " + f.dir.file("missing"));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("missing: no adapter here"), std::string::npos) << r.output;
}

}  // namespace
