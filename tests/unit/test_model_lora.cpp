// LoRA with PEFT semantics: a fresh adapter changes nothing, an adapter equals
// the merged weight W + (alpha/r) B A, adapters survive a save/load round trip.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "model_fixture.h"
#include "ntks/model/adapter.h"
#include "ntks/model/decoder.h"
#include "ntks/util/error.h"
#include "ntks/util/files.h"

using namespace ntks::model;
using ntks::InputError;
using ntks::testing::error_of;
using ntks::testing::TempDir;
using ntks::testing::tiny_checkpoint;

namespace {

std::pair<at::Tensor, at::Tensor> batch() {
  at::Tensor ids = torch::tensor({{3, 7, 11, 2, 9}, {4, 1, 0, 0, 0}}, torch::kLong);
  at::Tensor mask = torch::tensor({{1, 1, 1, 1, 1}, {1, 1, 0, 0, 0}}, torch::kLong);
  return {ids, mask};
}

void randomize_b(Decoder& d, uint64_t seed) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  for (auto& layer : d.layers())
    for (auto& lin : layer.proj)
      if (lin.has_lora()) lin.lora().b = at::empty(lin.lora().b.sizes()).normal_(0, 0.1, gen);
}

TEST(Lora, FreshAdapterLeavesOutputsUnchangedAndHasKaimingA) {
  TempDir dir;
  Decoder d = Decoder::load(tiny_checkpoint(dir, "m"), at::kFloat, at::kCPU);
  auto [ids, mask] = batch();
  at::Tensor base = d.hidden_states(ids, mask);
  LoraSpec spec;
  spec.r = 4;
  d.add_lora(spec, 7);
  EXPECT_TRUE(d.hidden_states(ids, mask).equal(base));
  auto params = d.lora_parameters();
  ASSERT_EQ(params.size(), 2u * 7 * 2);  // A and B, 7 modules, 2 layers
  const double bound = 1.0 / std::sqrt(32.0);  // q_proj: in_features = hidden = 32
  EXPECT_LE(params[0].abs().max().item<double>(), bound);
  EXPECT_GT(params[0].abs().max().item<double>(), 0.5 * bound);
  EXPECT_EQ(params[1].abs().max().item<double>(), 0.0);
  // Same seed, same adapter (what makes every rank start alike).
  Decoder d2 = Decoder::load(dir.file("m"), at::kFloat, at::kCPU);
  d2.add_lora(spec, 7);
  EXPECT_TRUE(d2.lora_parameters()[0].equal(params[0]));
}

TEST(Lora, EqualsMergedWeight) {
  TempDir dir;
  std::string path = tiny_checkpoint(dir, "m", Arch::qwen3);
  Decoder lora = Decoder::load(path, at::kFloat, at::kCPU);
  LoraSpec spec;
  spec.r = 4;
  spec.alpha = 8;
  spec.targets = {"q_proj", "v_proj", "down_proj"};
  lora.add_lora(spec, 3);
  randomize_b(lora, 4);

  Decoder merged = Decoder::load(path, at::kFloat, at::kCPU);
  for (size_t i = 0; i < merged.layers().size(); ++i)
    for (size_t m = 0; m < kLoraModules.size(); ++m) {
      const Linear& l = lora.layers()[i].proj[m];
      if (!l.has_lora()) continue;
      at::Tensor w = l.weight() + spec.scaling() * torch::matmul(l.lora().b, l.lora().a);
      merged.layers()[i].proj[m] = Linear(w, l.bias());
    }
  auto [ids, mask] = batch();
  at::Tensor a = lora.hidden_states(ids, mask), b = merged.hidden_states(ids, mask);
  EXPECT_LT((a - b).abs().max().item<float>(), 1e-5) << "LoRA forward differs from the merged weight";
  // And the adapter matters: the base model differs.
  Decoder base = Decoder::load(path, at::kFloat, at::kCPU);
  EXPECT_GT((a - base.hidden_states(ids, mask)).abs().max().item<float>(), 1e-3);
}

TEST(Lora, DropoutOnlyInTraining) {
  TempDir dir;
  Decoder d = Decoder::load(tiny_checkpoint(dir, "m"), at::kFloat, at::kCPU);
  LoraSpec spec;
  spec.r = 4;
  spec.dropout = 0.5;
  d.add_lora(spec, 1);
  randomize_b(d, 2);
  auto [ids, mask] = batch();
  EXPECT_TRUE(d.hidden_states(ids, mask).equal(d.hidden_states(ids, mask)));
  ForwardContext train;
  train.training = true;
  torch::manual_seed(0);
  at::Tensor t1 = d.hidden_states(ids, mask, train);
  EXPECT_GT((t1 - d.hidden_states(ids, mask)).abs().max().item<float>(), 1e-4);
}

TEST(Lora, PeftAdapterRoundTrip) {
  TempDir dir;
  std::string path = tiny_checkpoint(dir, "m");
  Decoder d = Decoder::load(path, at::kFloat, at::kCPU);
  LoraSpec spec;
  spec.r = 4;
  spec.alpha = 16;
  spec.targets = {"k_proj", "o_proj", "up_proj"};
  d.add_lora(spec, 5);
  randomize_b(d, 6);
  save_adapter(d, dir.file("adapter"), path);

  auto cfg = nlohmann::json::parse(ntks::read_file(dir.file("adapter/adapter_config.json")));
  EXPECT_EQ(cfg["peft_type"], "LORA");
  EXPECT_EQ(cfg["r"], 4);
  EXPECT_EQ(cfg["target_modules"], nlohmann::json({"k_proj", "o_proj", "up_proj"}));
  auto st = WeightStore::open(dir.file("adapter/adapter_model.safetensors"));
  EXPECT_TRUE(st.has("base_model.model.model.layers.1.self_attn.o_proj.lora_B.weight"));
  EXPECT_TRUE(st.has("base_model.model.model.layers.0.mlp.up_proj.lora_A.weight"));
  EXPECT_EQ(st.get("base_model.model.model.layers.0.mlp.up_proj.lora_A.weight").shape, (std::vector<int64_t>{4, 32}));
  EXPECT_EQ(st.get("base_model.model.model.layers.0.mlp.up_proj.lora_B.weight").shape, (std::vector<int64_t>{48, 4}));
  EXPECT_EQ(st.names().size(), 2u * 3 * 2);

  Decoder back = Decoder::load(path, at::kFloat, at::kCPU);
  load_adapter(back, dir.file("adapter"));
  auto p1 = d.lora_parameters(), p2 = back.lora_parameters();
  ASSERT_EQ(p1.size(), p2.size());
  for (size_t i = 0; i < p1.size(); ++i) EXPECT_TRUE(p1[i].equal(p2[i])) << i;
  EXPECT_EQ(back.lora_spec().targets, spec.targets);
  auto [ids, mask] = batch();
  EXPECT_TRUE(back.hidden_states(ids, mask).equal(d.hidden_states(ids, mask)));
}

TEST(Lora, AdapterErrorsNameTheProblem) {
  TempDir dir;
  std::string path = tiny_checkpoint(dir, "m");
  Decoder d = Decoder::load(path, at::kFloat, at::kCPU);
  LoraSpec spec;
  spec.r = 4;
  d.add_lora(spec, 5);
  save_adapter(d, dir.file("a"), path);
  auto edit = [&](const std::string& key, const nlohmann::json& value) {
    auto cfg = nlohmann::json::parse(ntks::read_file(dir.file("a/adapter_config.json")));
    cfg[key] = value;
    ntks::write_file_atomic(dir.file("a/adapter_config.json"), cfg.dump());
  };
  Decoder fresh = Decoder::load(path, at::kFloat, at::kCPU);
  edit("r", 8);
  std::string msg = error_of<InputError>([&] { load_adapter(fresh, dir.file("a")); });
  EXPECT_NE(msg.find("shapes do not match r = 8"), std::string::npos) << msg;
  edit("r", 4);
  edit("use_dora", true);
  msg = error_of<InputError>([&] { load_adapter(fresh, dir.file("a")); });
  EXPECT_NE(msg.find("DoRA"), std::string::npos) << msg;
  edit("use_dora", false);
  edit("target_modules", nlohmann::json({"q_proj"}));
  msg = error_of<InputError>([&] { load_adapter(fresh, dir.file("a")); });
  EXPECT_NE(msg.find("model.layers.0.self_attn.k_proj is not selected by target_modules"), std::string::npos) << msg;
  EXPECT_FALSE(fresh.has_lora());
  // A regex string selects by full module path, as in PEFT.
  edit("target_modules", ".*(proj)");
  EXPECT_NO_THROW(load_adapter(fresh, dir.file("a")));
  msg = error_of<InputError>([&] { load_adapter(fresh, dir.file("missing")); });
  EXPECT_NE(msg.find("missing/adapter_config.json"), std::string::npos) << msg;
}

TEST(Decoder, PaddingSideDoesNotChangeResults) {
  TempDir dir;
  Decoder d = Decoder::load(tiny_checkpoint(dir, "m", Arch::qwen3), at::kFloat, at::kCPU);
  at::Tensor right_ids = torch::tensor({{5, 6, 7, 0, 0}}, torch::kLong);
  at::Tensor right_mask = torch::tensor({{1, 1, 1, 0, 0}}, torch::kLong);
  at::Tensor left_ids = torch::tensor({{0, 0, 5, 6, 7}}, torch::kLong);
  at::Tensor left_mask = torch::tensor({{0, 0, 1, 1, 1}}, torch::kLong);
  at::Tensor alone = d.hidden_states(torch::tensor({{5, 6, 7}}, torch::kLong), torch::ones({1, 3}, torch::kLong));
  at::Tensor r = d.hidden_states(right_ids, right_mask).narrow(1, 0, 3);
  at::Tensor l = d.hidden_states(left_ids, left_mask).narrow(1, 2, 3);
  EXPECT_TRUE(torch::isfinite(d.hidden_states(left_ids, left_mask)).all().item<bool>());
  EXPECT_LT((r - alone).abs().max().item<float>(), 1e-5);
  EXPECT_LT((l - alone).abs().max().item<float>(), 1e-5);
}

}  // namespace
