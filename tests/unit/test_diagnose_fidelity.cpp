// `ntk-select diagnose fidelity` on a tiny random llama against the Python
// reference, which sums the exact NTK literally over all 272 vocabulary
// entries with per-output autograd; and its errors for impossible requests.

#include <gtest/gtest.h>

#include <filesystem>

#include "test_diagnose_fixture.h"

namespace {

using ntks::testing::diagnose::DiagnoseFixture;
using ntks::testing::diagnose::read_json;
using ntks::testing::diagnose::relative_error;
namespace fs = std::filesystem;

TEST(DiagnoseFidelity, MatchesAnIndependentPerVocabularyComputation) {
  DiagnoseFixture f;
  const std::string data = f.pretokenized("data.jsonl", 6);
  auto r = f.ntks(fmt::format("diagnose fidelity --set data.domain={} --adapter {} --samples 6 --dim 128 "
                              "--set grads.seed=5 --set grads.scale=2",
                              data, f.adapter));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("diagnose fidelity: 6 samples"), std::string::npos) << r.output;
  const std::string out = f.run_dir() + "/diagnose/fidelity.json";
  const auto j = read_json(out);
  EXPECT_NE(ntks::read_file(f.run_dir() + "/diagnose/fidelity.svg").find("<circle"), std::string::npos);
  EXPECT_EQ(j["samples"], 6);
  EXPECT_EQ(j["exact_directions"], 32);  // W^T W of a random 272 x 32 head has full rank

  const auto ref = f.reference(fmt::format("fidelity {} {} {} 128 5 2", f.model, f.adapter, data));
  EXPECT_LT(relative_error(j["kernels"]["exact"], ref["exact"]), 1e-4);
  EXPECT_LT(relative_error(j["kernels"]["jacobian_free"], ref["jacobian_free"]), 1e-4);
  EXPECT_LT(relative_error(j["kernels"]["projected"], ref["projected"]), 1e-4);
  for (const char* key : {"pearson", "spearman", "cross_share", "cross_share_mean_abs", "shape_error", "jl_max_rel_error",
                          "jl_mean_rel_error", "jl_bound"})
    EXPECT_NEAR(j[key].get<double>(), ref[key].get<double>(), 1e-4) << key;
  std::cout << "tiny random llama, 6 samples: pearson " << j["pearson"] << ", spearman " << j["spearman"]
            << ", cross_share " << j["cross_share"] << ", cross_share_mean_abs " << j["cross_share_mean_abs"]
            << ", JL d=128 max " << j["jl_max_rel_error"] << " mean " << j["jl_mean_rel_error"] << " bound "
            << j["jl_bound"] << "\n";
}

// grads.projection reaches the diagnostic: a sparse run measures the sparse
// projection (same exact and Jacobian-free kernels, another projected one,
// still within the JL bound) and says so in its JSON.
TEST(DiagnoseFidelity, MeasuresTheProjectionThatGradsUses) {
  DiagnoseFixture f;
  const std::string data = f.pretokenized("data.jsonl", 6);
  const std::string base =
      fmt::format("diagnose fidelity --set data.domain={} --adapter {} --samples 6 --dim 128 ", data, f.adapter);
  auto dense = f.ntks(base + "--out " + f.run_dir() + "/dense.json");
  ASSERT_EQ(dense.status, 0) << dense.output;
  auto sparse = f.ntks(base + "--set grads.projection=sparse --out " + f.run_dir() + "/sparse.json");
  ASSERT_EQ(sparse.status, 0) << sparse.output;
  const auto d = read_json(f.run_dir() + "/dense.json"), s = read_json(f.run_dir() + "/sparse.json");
  EXPECT_EQ(d["projection"], "rademacher");
  EXPECT_EQ(s["projection"], "sparse");
  EXPECT_EQ(d["kernels"]["exact"], s["kernels"]["exact"]);
  EXPECT_EQ(d["kernels"]["jacobian_free"], s["kernels"]["jacobian_free"]);
  EXPECT_GT(relative_error(s["kernels"]["projected"], d["kernels"]["projected"]), 1e-3);
  EXPECT_LT(s["jl_max_rel_error"].get<double>(), s["jl_bound"].get<double>());
}

TEST(DiagnoseFidelity, RefusesImpossibleRequestsWithWhatTheyNeed) {
  DiagnoseFixture f;
  const std::string data = f.pretokenized("data.jsonl", 4);
  const std::string base = fmt::format("diagnose fidelity --set data.domain={} --dim 64 ", data);
  const std::string with_adapter = base + "--adapter " + f.adapter + " ";
  auto r = f.ntks(with_adapter + "--samples 5");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("--samples 5 of " + data + ": the data holds only 4 record(s)"), std::string::npos)
      << r.output;
  r = f.ntks(with_adapter + "--samples 4 --max-memory 1e-6");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("the request needs about"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("above --max-memory 1e-06 GiB"), std::string::npos) << r.output;
  r = f.ntks(base + "--samples 4 --adapter none");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("needs an adapter"), std::string::npos) << r.output;
  r = f.ntks("diagnose wobble");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("expected stability, fidelity or entk"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(f.run_dir() + "/diagnose/fidelity.json"));
}

}  // namespace
