// config.json parsing: published configs of Llama-3 and Qwen3 checkpoints,
// the defaults transformers applies, the key spellings of old and new
// releases, errors that name the file and key, and hf_config_json round trips.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "ntks/model/hf_config.h"
#include "ntks/util/error.h"
#include "test_util.h"

namespace fs = std::filesystem;
using ntks::InputError;
using ntks::model::Arch;
using ntks::model::HfConfig;
using ntks::model::parse_hf_config;
using ntks::testing::error_of;
using ntks::testing::TempDir;
using ntks::testing::expect_contains;
using nlohmann::json;

namespace {

std::string fixture_path(const std::string& name) {
  return std::string(NTKS_SOURCE_DIR) + "/tests/unit/data/hf_configs/" + name;
}

HfConfig parse(const json& j) { return parse_hf_config(j.dump(), "test/config.json"); }

std::string parse_error(const json& j) {
  return error_of<InputError>([&] { parse(j); });
}

// The smallest config a llama model can have.
json minimal_llama() {
  return {{"architectures", {"LlamaForCausalLM"}},
          {"hidden_size", 64},
          {"num_hidden_layers", 2},
          {"num_attention_heads", 4},
          {"intermediate_size", 128},
          {"vocab_size", 100}};
}

json minimal_qwen3() {
  json j = minimal_llama();
  j["architectures"] = {"Qwen3ForCausalLM"};
  return j;
}

void expect_same_config(const HfConfig& a, const HfConfig& b) {
  EXPECT_EQ(a.arch, b.arch);
  EXPECT_EQ(a.architecture, b.architecture);
  EXPECT_EQ(a.vocab_size, b.vocab_size);
  EXPECT_EQ(a.hidden_size, b.hidden_size);
  EXPECT_EQ(a.intermediate_size, b.intermediate_size);
  EXPECT_EQ(a.num_layers, b.num_layers);
  EXPECT_EQ(a.num_heads, b.num_heads);
  EXPECT_EQ(a.num_kv_heads, b.num_kv_heads);
  EXPECT_EQ(a.head_dim, b.head_dim);
  EXPECT_DOUBLE_EQ(a.rope_theta, b.rope_theta);
  EXPECT_EQ(a.rope_scaling.type, b.rope_scaling.type);
  if (a.rope_scaling.type != "default") {
    EXPECT_DOUBLE_EQ(a.rope_scaling.factor, b.rope_scaling.factor);
  }
  if (a.rope_scaling.type == "llama3") {
    EXPECT_DOUBLE_EQ(a.rope_scaling.low_freq_factor, b.rope_scaling.low_freq_factor);
    EXPECT_DOUBLE_EQ(a.rope_scaling.high_freq_factor, b.rope_scaling.high_freq_factor);
    EXPECT_EQ(a.rope_scaling.original_max_position, b.rope_scaling.original_max_position);
  }
  EXPECT_DOUBLE_EQ(a.rms_norm_eps, b.rms_norm_eps);
  EXPECT_EQ(a.tie_word_embeddings, b.tie_word_embeddings);
  EXPECT_EQ(a.attention_bias, b.attention_bias);
  EXPECT_EQ(a.mlp_bias, b.mlp_bias);
  EXPECT_EQ(a.max_position_embeddings, b.max_position_embeddings);
  EXPECT_EQ(a.torch_dtype, b.torch_dtype);
  EXPECT_EQ(a.bos_token_id, b.bos_token_id);
  EXPECT_EQ(a.eos_token_ids, b.eos_token_ids);
  EXPECT_EQ(a.pad_token_id, b.pad_token_id);
}

void expect_round_trip(const HfConfig& c) {
  const std::string text = ntks::model::hf_config_json(c);
  SCOPED_TRACE(text);
  expect_same_config(parse_hf_config(text, "written/config.json"), c);
}

}  // namespace

// ---------------------------------------------------------------- published configs

TEST(HfConfig, MetaLlama3_8BInstruct) {
  const HfConfig c = ntks::model::load_hf_config(fixture_path("Meta-Llama-3-8B-Instruct.json"));
  EXPECT_EQ(c.arch, Arch::llama);
  EXPECT_EQ(c.architecture, "LlamaForCausalLM");
  EXPECT_EQ(c.vocab_size, 128256);
  EXPECT_EQ(c.hidden_size, 4096);
  EXPECT_EQ(c.intermediate_size, 14336);
  EXPECT_EQ(c.num_layers, 32);
  EXPECT_EQ(c.num_heads, 32);
  EXPECT_EQ(c.num_kv_heads, 8);
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_DOUBLE_EQ(c.rope_theta, 500000);
  EXPECT_EQ(c.rope_scaling.type, "default");
  EXPECT_DOUBLE_EQ(c.rms_norm_eps, 1e-5);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_FALSE(c.attention_bias);
  EXPECT_FALSE(c.mlp_bias);
  EXPECT_EQ(c.max_position_embeddings, 8192);
  EXPECT_EQ(c.torch_dtype, "bfloat16");
  EXPECT_EQ(c.bos_token_id, 128000);
  EXPECT_EQ(c.eos_token_ids, std::vector<std::int64_t>{128009});
  EXPECT_EQ(c.pad_token_id, -1);
  expect_round_trip(c);
}

TEST(HfConfig, Llama31_8BInstructWithLlama3RopeScaling) {
  const HfConfig c = ntks::model::load_hf_config(fixture_path("Llama-3.1-8B-Instruct.json"));
  EXPECT_EQ(c.arch, Arch::llama);
  EXPECT_EQ(c.num_heads, 32);
  EXPECT_EQ(c.num_kv_heads, 8);
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_DOUBLE_EQ(c.rope_theta, 500000);
  EXPECT_EQ(c.rope_scaling.type, "llama3");
  EXPECT_DOUBLE_EQ(c.rope_scaling.factor, 8);
  EXPECT_DOUBLE_EQ(c.rope_scaling.low_freq_factor, 1);
  EXPECT_DOUBLE_EQ(c.rope_scaling.high_freq_factor, 4);
  EXPECT_EQ(c.rope_scaling.original_max_position, 8192);
  EXPECT_EQ(c.max_position_embeddings, 131072);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_EQ(c.eos_token_ids, (std::vector<std::int64_t>{128001, 128008, 128009}));
  expect_round_trip(c);
}

TEST(HfConfig, Qwen3_8B) {
  TempDir dir;
  fs::copy_file(fixture_path("Qwen3-8B.json"), dir.file("config.json"));
  const HfConfig c = ntks::model::load_hf_config(dir.path().string());  // a folder
  EXPECT_EQ(c.arch, Arch::qwen3);  // implies q_norm / k_norm
  EXPECT_EQ(c.architecture, "Qwen3ForCausalLM");
  EXPECT_EQ(c.vocab_size, 151936);
  EXPECT_EQ(c.hidden_size, 4096);
  EXPECT_EQ(c.intermediate_size, 12288);
  EXPECT_EQ(c.num_layers, 36);
  EXPECT_EQ(c.num_heads, 32);
  EXPECT_EQ(c.num_kv_heads, 8);
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_DOUBLE_EQ(c.rope_theta, 1e6);
  EXPECT_EQ(c.rope_scaling.type, "default");
  EXPECT_DOUBLE_EQ(c.rms_norm_eps, 1e-6);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_FALSE(c.attention_bias);
  EXPECT_EQ(c.max_position_embeddings, 40960);
  EXPECT_EQ(c.torch_dtype, "bfloat16");
  EXPECT_EQ(c.bos_token_id, 151643);
  EXPECT_EQ(c.eos_token_ids, std::vector<std::int64_t>{151645});
  expect_round_trip(c);
}

TEST(HfConfig, MissingFile) {
  TempDir dir;
  const std::string err = error_of<InputError>([&] { ntks::model::load_hf_config(dir.path().string()); });
  EXPECT_EQ(err, dir.file("config.json") + ": no such file");
}

// ---------------------------------------------------------------- defaults

TEST(HfConfig, LlamaDefaults) {
  const HfConfig c = parse(minimal_llama());
  EXPECT_EQ(c.num_kv_heads, 4);   // = num_attention_heads
  EXPECT_EQ(c.head_dim, 16);      // hidden / heads
  EXPECT_DOUBLE_EQ(c.rope_theta, 10000);
  EXPECT_EQ(c.rope_scaling.type, "default");
  EXPECT_DOUBLE_EQ(c.rms_norm_eps, 1e-6);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_FALSE(c.attention_bias);
  EXPECT_FALSE(c.mlp_bias);
  EXPECT_EQ(c.max_position_embeddings, 2048);
  EXPECT_EQ(c.torch_dtype, "float32");
  EXPECT_EQ(c.bos_token_id, -1);
  EXPECT_TRUE(c.eos_token_ids.empty());
  EXPECT_EQ(c.pad_token_id, -1);
  expect_round_trip(c);
}

TEST(HfConfig, Qwen3Defaults) {
  const HfConfig c = parse(minimal_qwen3());
  EXPECT_EQ(c.arch, Arch::qwen3);
  EXPECT_EQ(c.head_dim, 128);  // not hidden / heads = 16
  EXPECT_EQ(c.num_kv_heads, 4);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_DOUBLE_EQ(c.rms_norm_eps, 1e-6);
  EXPECT_EQ(c.max_position_embeddings, 32768);
  expect_round_trip(c);

  json j = minimal_qwen3();
  j["head_dim"] = 32;
  j["tie_word_embeddings"] = true;
  j["mlp_bias"] = true;  // Qwen3's MLP has no bias whatever the config says
  const HfConfig d = parse(j);
  EXPECT_EQ(d.head_dim, 32);
  EXPECT_TRUE(d.tie_word_embeddings);
  EXPECT_FALSE(d.mlp_bias);
}

TEST(HfConfig, LlamaExplicitHeadDimAndNulls) {
  json j = minimal_llama();
  j["hidden_size"] = 60;        // not divisible by 4 heads ...
  j["head_dim"] = 32;           // ... which is fine when head_dim is given
  j["num_key_value_heads"] = nullptr;
  j["rope_scaling"] = nullptr;
  j["bos_token_id"] = nullptr;
  j["torch_dtype"] = nullptr;
  const HfConfig c = parse(j);
  EXPECT_EQ(c.head_dim, 32);
  EXPECT_EQ(c.num_kv_heads, 4);
  EXPECT_EQ(c.bos_token_id, -1);
  EXPECT_EQ(c.torch_dtype, "float32");
}

TEST(HfConfig, ModelTypeWithoutArchitectures) {
  json j = minimal_llama();
  j.erase("architectures");
  j["model_type"] = "llama";
  EXPECT_EQ(parse(j).arch, Arch::llama);
  EXPECT_EQ(parse(j).architecture, "LlamaForCausalLM");
  j["model_type"] = "qwen3";
  EXPECT_EQ(parse(j).arch, Arch::qwen3);
  EXPECT_EQ(parse(j).head_dim, 128);
}

// ---------------------------------------------------------------- spellings

TEST(HfConfig, RopeTypeAndLegacyType) {
  json j = minimal_llama();
  j["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
  HfConfig c = parse(j);
  EXPECT_EQ(c.rope_scaling.type, "linear");
  EXPECT_DOUBLE_EQ(c.rope_scaling.factor, 2);
  expect_round_trip(c);

  j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", 4}};
  EXPECT_DOUBLE_EQ(parse(j).rope_scaling.factor, 4);

  j["rope_scaling"] = {{"type", "llama3"}, {"factor", 32.0}, {"low_freq_factor", 1.0},
                       {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 8192}};
  c = parse(j);
  EXPECT_EQ(c.rope_scaling.type, "llama3");
  EXPECT_DOUBLE_EQ(c.rope_scaling.factor, 32);

  // rope_type wins over the legacy key, as in transformers
  j["rope_scaling"] = {{"rope_type", "default"}, {"type", "yarn"}};
  EXPECT_EQ(parse(j).rope_scaling.type, "default");
}

TEST(HfConfig, RopeParameters) {
  json j = minimal_llama();
  j["rope_parameters"] = {{"rope_type", "llama3"}, {"rope_theta", 500000.0}, {"factor", 8.0},
                          {"low_freq_factor", 1.0}, {"high_freq_factor", 4.0},
                          {"original_max_position_embeddings", 8192}};
  HfConfig c = parse(j);
  EXPECT_DOUBLE_EQ(c.rope_theta, 500000);
  EXPECT_EQ(c.rope_scaling.type, "llama3");
  EXPECT_DOUBLE_EQ(c.rope_scaling.factor, 8);
  EXPECT_EQ(c.rope_scaling.original_max_position, 8192);

  json q = minimal_qwen3();
  q["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 1000000}};
  c = parse(q);
  EXPECT_DOUBLE_EQ(c.rope_theta, 1e6);
  EXPECT_EQ(c.rope_scaling.type, "default");

  q["rope_parameters"] = {{"full_attention", {{"rope_type", "default"}}}};
  expect_contains(parse_error(q), "rope_parameters.full_attention");
}

TEST(HfConfig, DTypeSpellings) {
  json j = minimal_llama();
  j["torch_dtype"] = "float16";
  EXPECT_EQ(parse(j).torch_dtype, "float16");
  j["dtype"] = "bfloat16";  // transformers 5 spelling wins
  EXPECT_EQ(parse(j).torch_dtype, "bfloat16");
  j.erase("torch_dtype");
  EXPECT_EQ(parse(j).torch_dtype, "bfloat16");
  j["dtype"] = "int4";
  const std::string err = parse_error(j);
  expect_contains(err, "key 'dtype' is 'int4'");
  expect_contains(err, "bfloat16");
}

TEST(HfConfig, TokenIds) {
  json j = minimal_llama();
  j["eos_token_id"] = {1, 2, 3};
  j["bos_token_id"] = 0;
  j["pad_token_id"] = 7;
  HfConfig c = parse(j);
  EXPECT_EQ(c.eos_token_ids, (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(c.bos_token_id, 0);
  EXPECT_EQ(c.pad_token_id, 7);
  expect_round_trip(c);
  j["eos_token_id"] = 5;
  EXPECT_EQ(parse(j).eos_token_ids, std::vector<std::int64_t>{5});
  j["eos_token_id"] = {1, "2"};
  expect_contains(parse_error(j), "key 'eos_token_id' is [1,\"2\"], expected an integer or a list");
}

// ---------------------------------------------------------------- errors

TEST(HfConfig, UnsupportedArchitectureListsSupported) {
  json j = minimal_llama();
  j["architectures"] = {"MistralForCausalLM"};
  EXPECT_EQ(parse_error(j), "test/config.json: architecture 'MistralForCausalLM' is not supported "
                            "(supported: LlamaForCausalLM, Qwen3ForCausalLM)");
  j.erase("architectures");
  j["model_type"] = "gemma";
  const std::string err = parse_error(j);
  expect_contains(err, "model_type 'gemma' is not supported");
  expect_contains(err, "LlamaForCausalLM, Qwen3ForCausalLM");
  j.erase("model_type");
  expect_contains(parse_error(j), "neither 'architectures' nor 'model_type'");
  j["architectures"] = json::array();
  expect_contains(parse_error(j), "key 'architectures' is []");
  // model_type decides which class transformers builds: a mismatch is refused
  j["architectures"] = {"LlamaForCausalLM"};
  j["model_type"] = "mistral";
  expect_contains(parse_error(j), "needs model_type 'llama', the config says 'mistral'");
  EXPECT_EQ(ntks::model::supported_architectures(),
            (std::vector<std::string>{"LlamaForCausalLM", "Qwen3ForCausalLM"}));
}

TEST(HfConfig, MissingRequiredKeyNamesIt) {
  for (const char* key :
       {"hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "vocab_size"}) {
    json j = minimal_llama();
    j.erase(key);
    EXPECT_EQ(parse_error(j), fmt::format("test/config.json: key '{}' is missing (required for "
                                          "LlamaForCausalLM)", key));
    j[key] = nullptr;
    expect_contains(parse_error(j), fmt::format("key '{}' is missing", key));
  }
}

TEST(HfConfig, WrongTypesNameTheKey) {
  json j = minimal_llama();
  j["hidden_size"] = "4096";
  EXPECT_EQ(parse_error(j), "test/config.json: key 'hidden_size' is \"4096\", expected an integer");
  j = minimal_llama();
  j["num_hidden_layers"] = 2.5;
  expect_contains(parse_error(j), "key 'num_hidden_layers' is 2.5, expected an integer");
  j = minimal_llama();
  j["num_hidden_layers"] = 2.0;  // what Python writes for a float that is whole
  EXPECT_EQ(parse(j).num_layers, 2);
  j = minimal_llama();
  j["vocab_size"] = 0;
  expect_contains(parse_error(j), "key 'vocab_size' is 0, expected a positive integer");
  j = minimal_llama();
  j["tie_word_embeddings"] = "yes";
  expect_contains(parse_error(j), "key 'tie_word_embeddings' is \"yes\", expected true or false");
  j = minimal_llama();
  j["rms_norm_eps"] = "1e-5";
  expect_contains(parse_error(j), "key 'rms_norm_eps' is \"1e-5\", expected a number");
  j = minimal_llama();
  j["rope_scaling"] = "linear";
  expect_contains(parse_error(j), "key 'rope_scaling' is \"linear\", expected null or a map");
}

TEST(HfConfig, NotJson) {
  std::string err = error_of<InputError>([] { parse_hf_config("{\"hidden_size\": ", "cfg.json"); });
  expect_contains(err, "cfg.json: not valid JSON");
  err = error_of<InputError>([] { parse_hf_config("[1]", "cfg.json"); });
  expect_contains(err, "cfg.json: a config.json must be a JSON object");
}

TEST(HfConfig, SanityChecks) {
  json j = minimal_llama();
  j["num_key_value_heads"] = 3;
  expect_contains(parse_error(j), "key 'num_key_value_heads' is 3, which does not divide "
                                  "num_attention_heads 4");
  j = minimal_llama();
  j["hidden_size"] = 62;
  expect_contains(parse_error(j), "key 'hidden_size' is 62, not a multiple of num_attention_heads 4");
  j = minimal_llama();
  j["head_dim"] = 15;
  expect_contains(parse_error(j), "key 'head_dim' is 15");
  j = minimal_llama();
  j["hidden_act"] = "gelu";
  expect_contains(parse_error(j), "key 'hidden_act' is 'gelu'");
  j = minimal_qwen3();
  j["use_sliding_window"] = true;
  expect_contains(parse_error(j), "key 'use_sliding_window' is true");
  j = minimal_qwen3();
  j["layer_types"] = {"full_attention", "sliding_attention"};
  expect_contains(parse_error(j), "key 'layer_types' has \"sliding_attention\"");
}

TEST(HfConfig, UnsupportedOrIncompleteRope) {
  json j = minimal_llama();
  j["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
  EXPECT_EQ(parse_error(j), "test/config.json: key 'rope_scaling.rope_type' is 'yarn': this rope "
                            "type is not supported (supported: default, linear, llama3)");
  j["rope_scaling"] = {{"type", "dynamic"}, {"factor", 2.0}};
  expect_contains(parse_error(j), "key 'rope_scaling.type' is 'dynamic'");
  j["rope_scaling"] = {{"factor", 2.0}};
  expect_contains(parse_error(j), "key 'rope_scaling.rope_type' is missing");
  j["rope_scaling"] = {{"rope_type", "linear"}};
  expect_contains(parse_error(j), "key 'rope_scaling.factor' is missing (required by rope type linear)");
  j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", 0.5}};
  expect_contains(parse_error(j), "key 'rope_scaling.factor' is 0.5, expected >= 1");
  j["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}, {"high_freq_factor", 4.0},
                       {"original_max_position_embeddings", 8192}};
  expect_contains(parse_error(j), "key 'rope_scaling.low_freq_factor' is missing");
  j["rope_scaling"]["low_freq_factor"] = 4.0;
  expect_contains(parse_error(j), "expected 0 < low < high");
  j.erase("rope_scaling");
  j["rope_parameters"] = {{"rope_type", "longrope"}, {"rope_theta", 1e4}};
  expect_contains(parse_error(j), "key 'rope_parameters.rope_type' is 'longrope'");
}

// ---------------------------------------------------------------- writing

TEST(HfConfig, WrittenJsonHasHuggingFaceSpelling) {
  HfConfig c = ntks::model::load_hf_config(fixture_path("Llama-3.1-8B-Instruct.json"));
  json j = json::parse(ntks::model::hf_config_json(c));
  EXPECT_EQ(j["model_type"], "llama");
  EXPECT_EQ(j["architectures"], json({"LlamaForCausalLM"}));
  EXPECT_EQ(j["num_key_value_heads"], 8);
  EXPECT_EQ(j["rope_scaling"]["rope_type"], "llama3");
  EXPECT_EQ(j["rope_scaling"]["original_max_position_embeddings"], 8192);
  EXPECT_EQ(j["eos_token_id"], json({128001, 128008, 128009}));
  EXPECT_EQ(j["torch_dtype"], "bfloat16");
  EXPECT_EQ(j["hidden_act"], "silu");
  EXPECT_TRUE(j["pad_token_id"].is_null());

  c = ntks::model::load_hf_config(fixture_path("Qwen3-8B.json"));
  j = json::parse(ntks::model::hf_config_json(c));
  EXPECT_EQ(j["model_type"], "qwen3");
  EXPECT_TRUE(j["rope_scaling"].is_null());
  EXPECT_EQ(j["head_dim"], 128);
  EXPECT_EQ(j["eos_token_id"], 151645);
  EXPECT_EQ(j["use_sliding_window"], false);
}

TEST(HfConfig, RoundTripOfEveryField) {
  HfConfig c;
  c.arch = Arch::llama;
  c.architecture = "LlamaForCausalLM";
  c.vocab_size = 321;
  c.hidden_size = 48;
  c.intermediate_size = 96;
  c.num_layers = 3;
  c.num_heads = 6;
  c.num_kv_heads = 2;
  c.head_dim = 10;
  c.rope_theta = 12345.5;
  c.rope_scaling.type = "linear";
  c.rope_scaling.factor = 2.5;
  c.rms_norm_eps = 1e-5;
  c.tie_word_embeddings = true;
  c.attention_bias = true;
  c.mlp_bias = true;
  c.max_position_embeddings = 4096;
  c.torch_dtype = "float16";
  c.bos_token_id = 1;
  c.eos_token_ids = {2};
  c.pad_token_id = 0;
  expect_round_trip(c);

  c.arch = Arch::qwen3;
  c.architecture = "Qwen3ForCausalLM";
  c.mlp_bias = false;
  c.rope_scaling.type = "default";
  c.eos_token_ids = {};
  c.bos_token_id = -1;
  expect_round_trip(c);
}
