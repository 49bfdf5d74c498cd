// Loading checkpoints: every missing or mis-shaped tensor is named, an
// unsupported architecture lists the supported ones, sharded and bf16
// checkpoints load to the same model.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "model_fixture.h"
#include "ntks/model/decoder.h"
#include "ntks/model/safetensors.h"
#include "ntks/model/weights.h"
#include "ntks/util/error.h"
#include "ntks/util/files.h"

using namespace ntks::model;
using ntks::InputError;
using ntks::testing::error_of;
using ntks::testing::TempDir;
using ntks::testing::tiny_checkpoint;

namespace {

/// Rewrites dir/model.safetensors through `edit` on its tensor list.
void rewrite(const std::string& dir, const std::function<void(std::vector<TensorBytes>&)>& edit) {
  std::vector<TensorBytes> tensors;
  {
    WeightStore st = WeightStore::open(dir);
    for (const auto& name : st.names())
      tensors.push_back(tensor_bytes(name, tensor_from_view(st.get(name), st.keep_alive())));
  }
  edit(tensors);
  write_safetensors(dir + "/model.safetensors", tensors);
}

TEST(Checkpoint, MissingAndMisshapedTensorsAreEachNamed) {
  TempDir dir;
  std::string path = tiny_checkpoint(dir, "m");
  rewrite(path, [](std::vector<TensorBytes>& ts) {
    std::vector<TensorBytes> kept;
    for (auto& t : ts) {
      if (t.name == "model.layers.1.mlp.up_proj.weight" || t.name == "lm_head.weight") continue;
      if (t.name == "model.layers.0.self_attn.k_proj.weight") {
        t.shape = {8, 32 * 2};  // same bytes, wrong shape
      }
      kept.push_back(t);
    }
    ts = kept;
  });
  std::string msg = error_of<InputError>([&] { Decoder::load(path, at::kFloat, at::kCPU); });
  EXPECT_NE(msg.find("model.layers.1.mlp.up_proj.weight [48, 32]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("lm_head.weight"), std::string::npos) << msg;
  EXPECT_NE(msg.find("model.layers.0.self_attn.k_proj.weight is [8, 64] but the config needs [16, 32]"),
            std::string::npos)
      << msg;
}

TEST(Checkpoint, UnsupportedArchitectureListsSupportedOnes) {
  TempDir dir;
  std::string path = tiny_checkpoint(dir, "m");
  auto cfg = nlohmann::json::parse(ntks::read_file(path + "/config.json"));
  cfg["architectures"] = {"MistralForCausalLM"};
  cfg["model_type"] = "mistral";
  ntks::write_file_atomic(path + "/config.json", cfg.dump());
  std::string msg = error_of<InputError>([&] { Decoder::load(path, at::kFloat, at::kCPU); });
  EXPECT_NE(msg.find("MistralForCausalLM"), std::string::npos) << msg;
  EXPECT_NE(msg.find("LlamaForCausalLM"), std::string::npos) << msg;
  EXPECT_NE(msg.find("Qwen3ForCausalLM"), std::string::npos) << msg;
  msg = error_of<InputError>([&] { Decoder::load(dir.file("nothing"), at::kFloat, at::kCPU); });
  EXPECT_NE(msg.find("nothing"), std::string::npos) << msg;
}

TEST(Checkpoint, ShardedAndBf16CheckpointsLoadTheSameWeights) {
  TempDir dir;
  RandomCheckpointOptions opt;
  opt.config = ntks::testing::tiny_config();
  opt.seed = 9;
  write_random_checkpoint(dir.file("one"), opt);
  opt.shards = 3;
  write_random_checkpoint(dir.file("three"), opt);
  opt.shards = 1;
  opt.dtype = StDType::BF16;
  write_random_checkpoint(dir.file("bf16"), opt);
  EXPECT_TRUE(std::filesystem::exists(dir.file("three/model.safetensors.index.json")));
  EXPECT_TRUE(std::filesystem::exists(dir.file("three/model-00003-of-00003.safetensors")));

  at::Tensor ids = torch::tensor({{1, 2, 3, 4}}, torch::kLong), mask = torch::ones({1, 4}, torch::kLong);
  at::Tensor a = Decoder::load(dir.file("one"), at::kFloat, at::kCPU).hidden_states(ids, mask);
  at::Tensor b = Decoder::load(dir.file("three"), at::kFloat, at::kCPU).hidden_states(ids, mask);
  EXPECT_TRUE(a.equal(b));
  Decoder bf = Decoder::load(dir.file("bf16"), at::kBFloat16, at::kCPU);
  at::Tensor c = bf.hidden_states(ids, mask);
  EXPECT_EQ(c.scalar_type(), at::kBFloat16);
  // bf16 weights and compute: same model within bf16 precision (relative ~1e-2).
  EXPECT_LT((c.to(at::kFloat) - a).abs().max().item<float>(), 0.1 * a.abs().max().item<float>());
  EXPECT_EQ(load_hf_config(dir.file("bf16/config.json")).torch_dtype, "bfloat16");
}

TEST(Checkpoint, TiedEmbeddingsHaveNoLmHead) {
  TempDir dir;
  RandomCheckpointOptions opt;
  opt.config = ntks::testing::tiny_config(Arch::qwen3);
  opt.config.tie_word_embeddings = true;
  write_random_checkpoint(dir.file("tied"), opt);
  WeightStore st = WeightStore::open(dir.file("tied"));
  EXPECT_FALSE(st.has("lm_head.weight"));
  Decoder d = Decoder::load(dir.file("tied"), at::kFloat, at::kCPU);
  at::Tensor h = d.hidden_states(torch::tensor({{1, 2}}, torch::kLong), torch::ones({1, 2}, torch::kLong));
  at::Tensor embed = tensor_from_view(st.get("model.embed_tokens.weight"), st.keep_alive());
  EXPECT_TRUE(torch::allclose(d.logits(h), torch::matmul(h, embed.t())));
  EXPECT_TRUE(torch::allclose(d.lm_head_row_sum(), embed.sum(0)));
}

}  // namespace
