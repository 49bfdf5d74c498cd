// The checkpoint layout table (model/weight_table.h) behind loading, saving
// and random checkpoints, and save_model's round trip.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>

#include "model_fixture.h"
#include "ntks/model/decoder.h"
#include "ntks/model/safetensors.h"
#include "ntks/model/save_model.h"
#include "ntks/model/weight_table.h"

namespace {

using namespace ntks;
namespace tst = ntks::testing;

TEST(WeightTable, ListsEveryTensorOnceWithHuggingFaceNames) {
  model::HfConfig c = tst::tiny_config(model::Arch::qwen3);
  c.attention_bias = true;
  const auto t = model::weight_table(c);
  std::set<std::string> names;
  for (const auto& e : t) EXPECT_TRUE(names.insert(e.name).second) << e.name;
  // embed, 2 layers x (2 norms + 7 weights + 4 biases + 2 head norms), final norm, lm_head.
  EXPECT_EQ(t.size(), 1u + 2 * 15 + 2);
  EXPECT_EQ(t.front().name, "model.embed_tokens.weight");
  EXPECT_TRUE(names.count("model.layers.1.self_attn.k_norm.weight"));
  EXPECT_TRUE(names.count("model.layers.0.self_attn.o_proj.bias"));
  EXPECT_TRUE(names.count("model.layers.1.mlp.down_proj.weight"));
  EXPECT_EQ(t.back().name, "lm_head.weight");
  c.tie_word_embeddings = true;
  EXPECT_EQ(model::weight_table(c).back().name, "model.norm.weight");
}

TEST(WeightTable, SaveModelRoundTripsEveryWeightAndOwnWeightsCopies) {
  tst::TempDir dir;
  const std::string path = tst::tiny_checkpoint(dir, "m", model::Arch::qwen3, 4);
  model::Decoder d = model::Decoder::load(path, at::kFloat, at::kCPU);
  const auto before = d.named_weights();
  d.own_weights();
  const auto owned = d.named_weights();
  ASSERT_EQ(before.size(), owned.size());
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_TRUE(torch::equal(before[i].second, owned[i].second)) << before[i].first.name;
    EXPECT_NE(before[i].second.data_ptr(), owned[i].second.data_ptr()) << before[i].first.name;
  }
  // An in-place update (what training does) reaches the forward pass and the saved file.
  {
    torch::NoGradGuard g;
    for (auto& [e, t] : d.named_weights()) t.add_(0.01);
  }
  model::save_model(d, dir.file("saved"));
  model::Decoder e = model::Decoder::load(dir.file("saved"), at::kFloat, at::kCPU);
  const auto a = d.named_weights(), b = e.named_weights();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i].second, b[i].second)) << a[i].first.name;
  const at::Tensor ids = torch::tensor({{3, 1, 4, 1, 5}}, at::kLong), mask = torch::ones({1, 5}, at::kLong);
  EXPECT_TRUE(torch::equal(d.hidden_states(ids, mask), e.hidden_states(ids, mask)));
  EXPECT_EQ(e.config().num_layers, d.config().num_layers);
}

TEST(WeightTable, PretrainInitHasUnitNormsAndScaledResidualProjections) {
  tst::TempDir dir;
  model::RandomCheckpointOptions opt;
  opt.config = tst::tiny_config();
  opt.config.num_layers = 8;
  opt.config.hidden_size = opt.config.intermediate_size = 64;
  opt.config.num_heads = 4;
  opt.config.head_dim = 16;
  opt.pretrain_init = true;
  model::write_random_checkpoint(dir.file("p"), opt);
  model::Decoder d = model::Decoder::load(dir.file("p"), at::kFloat, at::kCPU);
  for (const auto& [e, t] : d.named_weights()) {
    if (e.is_norm()) {
      EXPECT_TRUE(torch::equal(t, torch::ones_like(t))) << e.name;
    } else if (e.slot == model::WeightSlot::proj_weight) {
      const double expected = (e.module == 3 || e.module == 6) ? 0.02 / 4.0 : 0.02;  // sqrt(2 x 8) = 4
      EXPECT_NEAR(t.std().item<double>(), expected, 0.15 * expected) << e.name;
    }
  }
}

}  // namespace
