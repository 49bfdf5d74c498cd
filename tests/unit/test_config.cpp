// Config: defaults from the paper, priority of file and --set, errors that
// name the key and line, validation, and the stable hash.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "ntks/config/enums.h"
#include "ntks/config/load.h"
#include "ntks/util/error.h"
#include "test_util.h"

using namespace ntks::config;
using ntks::ConfigError;
using ntks::testing::error_of;
using ntks::testing::TempDir;

namespace {

Config from_yaml(const std::string& text) {
  Config c;
  apply_yaml(c, text, "test.yaml");
  validate(c);
  return c;
}

TEST(ConfigDefaults, MatchThePaper) {
  Config c;
  EXPECT_EQ(c.lora.r, 32);
  EXPECT_DOUBLE_EQ(c.lora.alpha, 16);
  EXPECT_DOUBLE_EQ(c.lora.dropout, 0.05);
  EXPECT_EQ(c.lora.targets.size(), 7u);
  EXPECT_DOUBLE_EQ(c.warmup.lr, 5e-4);
  EXPECT_EQ(c.warmup.schedule, Schedule::cosine);
  EXPECT_DOUBLE_EQ(c.warmup.warmup_ratio, 0.03);
  EXPECT_DOUBLE_EQ(c.warmup.weight_decay, 0);
  EXPECT_EQ(c.warmup.batch_size, 8);
  EXPECT_EQ(c.warmup.grad_accum, 8);
  EXPECT_EQ(c.model.max_seq_len, 3072);
  EXPECT_EQ(c.grads.dim, 8192);
  EXPECT_EQ(c.grads.output, GradOutput::logit_sum);
  EXPECT_EQ(c.select.size, 9000);
  EXPECT_EQ(preselect_size(c), 36000);  // 4 x M, the paper's runtime-table setting
  EXPECT_NO_THROW(validate(c));
}

TEST(ConfigLoad, FileOverridesDefaultsAndSetOverridesFile) {
  TempDir dir;
  std::string path = dir.write("run.yaml",
                               "grads:\n  dim: 4096\n  output: log_likelihood\n"
                               "lora: {r: 8, targets: [q_proj, v_proj]}\n"
                               "data:\n  candidates: [a.jsonl, b.jsonl]\n  fields: {output: answer}\n");
  Config c = load(path, {"grads.dim=1024", "select.size=100", "data.candidates=[c.jsonl]"});
  EXPECT_EQ(c.grads.dim, 1024);                              // --set beats file
  EXPECT_EQ(c.grads.output, GradOutput::log_likelihood);    // file beats default
  EXPECT_EQ(c.lora.r, 8);
  EXPECT_EQ(c.lora.targets, (std::vector<std::string>{"q_proj", "v_proj"}));
  EXPECT_EQ(c.data.candidates, (std::vector<std::string>{"c.jsonl"}));
  EXPECT_EQ(c.data.fields.output, "answer");
  EXPECT_EQ(c.data.fields.input, "input");                   // untouched sibling keeps default
  EXPECT_EQ(c.select.size, 100);
  EXPECT_DOUBLE_EQ(c.warmup.lr, 5e-4);
}

TEST(ConfigLoad, LaterSetWinsAndSingleValueBecomesList) {
  Config c = load("", {"run.seed=1", "run.seed=7", "data.candidates=one.jsonl"});
  EXPECT_EQ(c.run.seed, 7);
  EXPECT_EQ(c.data.candidates, (std::vector<std::string>{"one.jsonl"}));
}

TEST(ConfigErrors, UnknownKeyNamesNearestValidKeyAndLine) {
  std::string msg = error_of<ConfigError>([] { from_yaml("run:\n  seed: 3\ngrads:\n  dimm: 12\n"); });
  EXPECT_NE(msg.find("'grads.dimm'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("test.yaml:4:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean 'grads.dim'"), std::string::npos) << msg;
}

TEST(ConfigErrors, UnknownSectionAndUnknownSetKey) {
  std::string msg = error_of<ConfigError>([] { from_yaml("grad:\n  dim: 12\n"); });
  EXPECT_NE(msg.find("did you mean 'grads'"), std::string::npos) << msg;
  msg = error_of<ConfigError>([] { load("", {"lora.alfa=3"}); });
  EXPECT_NE(msg.find("--set lora.alfa=3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean 'lora.alpha'"), std::string::npos) << msg;
}

TEST(ConfigErrors, TypeErrorNamesKeyLineAndExpectedType) {
  std::string msg = error_of<ConfigError>([] { from_yaml("# comment\nselect:\n  size: lots\n"); });
  EXPECT_NE(msg.find("'select.size'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("test.yaml:3:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected an integer, got 'lots'"), std::string::npos) << msg;

  msg = error_of<ConfigError>([] { from_yaml("model: {dtype: f64}\n"); });
  EXPECT_NE(msg.find("expected one of bf16|fp16|fp32"), std::string::npos) << msg;
  msg = error_of<ConfigError>([] { from_yaml("grads: {dim: 8192.5}\n"); });
  EXPECT_NE(msg.find("expected an integer"), std::string::npos) << msg;
  msg = error_of<ConfigError>([] { from_yaml("warmup: {lr: fast}\n"); });
  EXPECT_NE(msg.find("expected a number"), std::string::npos) << msg;
  msg = error_of<ConfigError>([] { from_yaml("preselect: {gpu: maybe}\n"); });
  EXPECT_NE(msg.find("expected true or false"), std::string::npos) << msg;
  msg = error_of<ConfigError>([] { from_yaml("lora:\n  targets: {q: 1}\n"); });
  EXPECT_NE(msg.find("expected a list of strings"), std::string::npos) << msg;
  msg = error_of<ConfigError>([] { from_yaml("lora: 3\n"); });
  EXPECT_NE(msg.find("expected a map of keys"), std::string::npos) << msg;
}

TEST(ConfigErrors, DuplicateKeyAndBadYamlAndMissingFile) {
  std::string msg = error_of<ConfigError>([] { from_yaml("run:\n  seed: 1\n  seed: 2\n"); });
  EXPECT_NE(msg.find("appears twice"), std::string::npos) << msg;
  msg = error_of<ConfigError>([] { from_yaml("run: [1, 2\n"); });
  EXPECT_NE(msg.find("not valid YAML"), std::string::npos) << msg;
  EXPECT_NE(msg.find("test.yaml:"), std::string::npos) << msg;
  msg = error_of<ConfigError>([] { load("/nonexistent/x.yaml", {}); });
  EXPECT_NE(msg.find("/nonexistent/x.yaml"), std::string::npos) << msg;
  msg = error_of<ConfigError>([] { load("", {"grads.dim"}); });
  EXPECT_NE(msg.find("expected KEY=VALUE"), std::string::npos) << msg;
}

TEST(ConfigValidate, RangesNameTheKey) {
  struct Case {
    const char* set;
    const char* key;
  };
  for (auto [set, key] : {Case{"lora.dropout=1.5", "lora.dropout"}, Case{"lora.r=0", "lora.r"},
                          Case{"lora.targets=[q_proj,q_proj]", "lora.targets"},
                          Case{"lora.targets=[qkv]", "lora.targets"}, Case{"warmup.warmup_ratio=2", "warmup.warmup_ratio"},
                          Case{"preselect.multiple=0.5", "preselect.multiple"}, Case{"grads.dim=-1", "grads.dim"},
                          Case{"grads.scale=0", "grads.scale"}, Case{"select.size=0", "select.size"}}) {
    std::string msg = error_of<ConfigError>([&] { load("", {set}); });
    EXPECT_NE(msg.find(std::string("'") + key + "'"), std::string::npos) << set << ": " << msg;
  }
  std::string msg = error_of<ConfigError>([] { load("", {"preselect.size=10", "select.size=20"}); });
  EXPECT_NE(msg.find("must be >= select.size (20)"), std::string::npos) << msg;
}

TEST(ConfigHash, IndependentOfKeyOrderAndFormatting) {
  Config a = from_yaml("grads:\n  dim: 4096\n  seed: 3\nlora:\n  r: 16\n");
  Config b = from_yaml("# same config, other layout\nlora: {r: 16}\ngrads: {seed: 3, dim: 4096}\n");
  EXPECT_EQ(hash(a), hash(b));
  EXPECT_EQ(hash(a).size(), 16u);
  Config d = from_yaml("grads: {dim: 4096, seed: 4}\nlora: {r: 16}\n");
  EXPECT_NE(hash(a), hash(d));
}

TEST(ConfigHash, EqualValuesWrittenDifferentlyHashAlike) {
  Config a = from_yaml("warmup: {lr: 0.0005}\nlora: {alpha: 16}\n");
  Config b = from_yaml("warmup: {lr: 5e-4}\nlora: {alpha: 16.0}\n");
  EXPECT_EQ(hash(a), hash(b));
  EXPECT_EQ(hash(a), hash(Config{}));  // those are the defaults
}

TEST(ConfigHash, PinnedForDefaults) {
  // Changing a default or a key's spelling changes every stage fingerprint;
  // update this value deliberately when that is intended.
  EXPECT_EQ(canonical_text(Config{}).substr(0, 36), "run.dir=\"ntks-run\"\nrun.seed=42\nmodel");
  EXPECT_EQ(hash(Config{}), hash(load("", {})));
}

TEST(ConfigDump, RoundTripsThroughYaml) {
  Config c = load("", {"grads.dim=123", "data.candidates=[\"x y.jsonl\", \"z#.jsonl\"]", "model.path=\"null\"", "model.tokenizer=null",
                       "warmup.lr=1e-05", "run.dir=\"yes\""});
  for (bool comments : {true, false}) {
    Config back;
    apply_yaml(back, dump_yaml(c, comments), "dump");
    EXPECT_EQ(canonical_text(back), canonical_text(c)) << dump_yaml(c, comments);
  }
  EXPECT_EQ(c.model.path, "null");      // quoted: the string
  EXPECT_EQ(c.model.tokenizer, "");     // plain YAML null: empty
  EXPECT_EQ(c.run.dir, "yes");
}

TEST(ConfigDump, EveryKeyAppearsWithItsComment) {
  std::string text = dump_yaml(Config{});
  EXPECT_NE(text.find("  dim: 8192  # projection dimension d"), std::string::npos) << text;
  EXPECT_NE(text.find("  template: auto"), std::string::npos);
  std::vector<std::string> keys = all_keys();
  EXPECT_EQ(keys.front(), "run");
  EXPECT_NE(std::find(keys.begin(), keys.end(), "data.fields.instruction"), keys.end());
}

TEST(ConfigFiles, DefaultsFileIsTheCurrentDump) {
  // configs/defaults.yaml documents every key for users; it must not drift.
  std::ifstream in(std::string(NTKS_SOURCE_DIR) + "/configs/defaults.yaml");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), dump_yaml(Config{}))
      << "regenerate with: ntk-select config --dump > configs/defaults.yaml";
}

TEST(ConfigFiles, ShippedConfigsLoad) {
  namespace fs = std::filesystem;
  int n = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(NTKS_SOURCE_DIR) / "configs")) {
    if (entry.path().extension() != ".yaml") continue;
    EXPECT_NO_THROW(load(entry.path().string(), {})) << entry.path();
    ++n;
  }
  EXPECT_GT(n, 0);
}

TEST(ConfigEnums, NamesRoundTrip) {
  EXPECT_EQ(to_string(DType::bf16), "bf16");
  EXPECT_EQ(parse_enum<Template>("qwen3"), Template::qwen3);
  EXPECT_EQ(parse_enum<Template>("auto"), Template::auto_);
  EXPECT_FALSE(parse_enum<Template>("llama2").has_value());
  EXPECT_EQ(enum_choices<IndexKind>(), "flat|ivf");
}

}  // namespace
