// Stage manifests in-process, with stand-in stage bodies that write the files
// each stage makes: which stages a change of config, input or output makes
// `run` redo, and the refusals of missing or foreign upstream outputs.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "ntks/dist/communicator.h"
#include "ntks/pipeline/fingerprint.h"
#include "ntks/pipeline/stage.h"
#include "ntks/util/blas_kernels.h"
#include "ntks/util/error.h"
#include "ntks/util/files.h"
#include "test_util.h"

namespace {

using namespace ntks;
using ntks::testing::error_of;
using ntks::testing::TempDir;
namespace fs = std::filesystem;

// What each stand-in stage writes (the files later stages read).
const std::map<std::string, std::vector<std::string>> kOutputs = {
    {"warmup", {"adapter_config.json", "adapter_model.safetensors", "train_log.jsonl"}},
    {"embed", {"domain.h5", "candidates.json"}},
    {"preselect", {"preselected.h5", "preselected_ids.txt"}},
    {"grads", {"domain.h5", "domain_mean.h5", "candidates.json"}},
    {"score", {"scores.h5"}},
    {"select", {"selected.jsonl", "selected_ids.txt", "mixture.jsonl"}}};

struct ManifestFixture {
  TempDir dir;
  std::unique_ptr<dist::Communicator> comm = dist::make_local();
  config::Config cfg;
  int version = 0;  // changes what the stand-in stages write

  ManifestFixture() {
    fs::create_directories(dir.file("model"));
    dir.write("model/config.json", "{\"model_type\": \"llama\"}");
    dir.write("model/model.safetensors", "weights A");
    dir.write("model/tokenizer.json", "{}");
    fs::create_directories(dir.file("other"));
    dir.write("other/config.json", "{\"model_type\": \"llama\"}");
    dir.write("other/model.safetensors", "weights B");
    cfg.model.path = dir.file("model");
    cfg.data.domain = dir.write("domain.jsonl", "{\"prompt\": \"p\", \"response\": \"r\"}\n");
    cfg.data.candidates = {dir.write("c.jsonl", "{\"prompt\": \"q\", \"response\": \"s\"}\n")};
    cfg.run.dir = dir.file("run");
    cfg.preselect.size = 8;  // so that select.size changes only select
  }

  std::vector<pipeline::StageOptions> options() const {
    std::vector<pipeline::StageOptions> o(pipeline::stage_names().size());
    o[3]["preselected"] = fs::absolute(dir.file("run/preselect/preselected.h5")).string();
    return o;
  }

  void run_stage(const std::string& stage, const config::Config& c) {
    const auto o = options()[pipeline::stage_index(stage, "test")];
    const int code = pipeline::run_stage(c, *comm, stage, o, [&] {
      const fs::path d = fs::path(c.run.dir) / stage;
      fs::create_directories(d);
      for (const std::string& f : kOutputs.at(stage))
        write_file_atomic((d / f).string(), fmt::format("{} {} v{}\n", stage, f, version));
      return 0;
    });
    ASSERT_EQ(code, 0);
  }
  void run_all(const config::Config& c) {
    for (const std::string& s : pipeline::stage_names()) run_stage(s, c);
  }
  // The plan of `run` as "-" (skip) or the first word of the reason.
  std::vector<std::string> plan(const config::Config& c) const {
    return pipeline::plan_run(c, options(), pipeline::stage_names().size(), "");
  }
  // Index of the first stage that runs (size when none).
  size_t first_redone(const config::Config& c) const {
    const auto p = plan(c);
    for (size_t i = 0; i < p.size(); ++i)
      if (!p[i].empty()) {
        for (size_t j = i; j < p.size(); ++j) EXPECT_FALSE(p[j].empty()) << "later stages run too";
        return i;
      }
    return p.size();
  }
};

TEST(PipelineManifest, AllUpToDateAfterARunAndManifestContents) {
  ManifestFixture f;
  const auto before = f.plan(f.cfg);
  for (const auto& why : before) EXPECT_FALSE(why.empty());
  EXPECT_EQ(before[0], "no manifest (never completed, or interrupted)");
  f.run_all(f.cfg);
  EXPECT_EQ(f.first_redone(f.cfg), 6u);
  const auto m = nlohmann::json::parse(read_file(pipeline::manifest_path(f.cfg, "grads")));
  EXPECT_EQ(m["stage"], "grads");
  EXPECT_EQ(m["identity"]["config"]["grads.dim"], "8192");
  EXPECT_FALSE(m["identity"]["config"].contains("grads.batch_size"));  // speed only
  EXPECT_FALSE(m["identity"]["config"].contains("warmup.lr"));         // another stage's key
  EXPECT_EQ(m["identity"]["config_hash"].get<std::string>().size(), 16u);
  EXPECT_TRUE(m["identity"]["upstream"].contains("warmup"));
  EXPECT_TRUE(m["identity"]["upstream"].contains("preselect"));  // through --preselected
  EXPECT_EQ(m["outputs"].size(), 3u);
  EXPECT_EQ(m["ranks"], 1);
  EXPECT_TRUE(m["versions"].contains("libtorch"));
  // The kernels that computed it (not part of the identity).
  EXPECT_NE(m["versions"]["blas"].get<std::string>().find("core " + ntks::util::running_blas_core()),
            std::string::npos)
      << m["versions"];
  EXPECT_EQ(m["lineage"]["model"]["path"], fs::absolute(f.cfg.model.path).lexically_normal().string());
  const auto s = pipeline::read_summary(f.cfg, "select");
  ASSERT_TRUE(s.present);
  EXPECT_EQ(s.counts, (std::vector<std::pair<std::string, int64_t>>{{"selected", 1}, {"mixture", 1}}));
}

TEST(PipelineManifest, AConfigKeyRedoesItsStageAndTheLaterOnesOnly) {
  ManifestFixture f;
  f.run_all(f.cfg);
  const auto first = [&](const std::function<void(config::Config&)>& change) {
    config::Config c = f.cfg;
    change(c);
    return f.first_redone(c);
  };
  EXPECT_EQ(first([](config::Config& c) { c.warmup.lr = 1e-3; }), 0u);
  EXPECT_EQ(first([](config::Config& c) { c.lora.r = 8; }), 0u);
  EXPECT_EQ(first([](config::Config& c) { c.store.dtype = config::StoreDType::fp16; }), 1u);  // embed
  EXPECT_EQ(first([](config::Config& c) { c.preselect.k = 7; }), 2u);
  EXPECT_EQ(first([](config::Config& c) { c.grads.dim = 64; }), 3u);
  EXPECT_EQ(first([](config::Config& c) { c.select.size = 3; }), 5u);
  // select.size also sizes the pre-selection when preselect.size is 0
  EXPECT_EQ(first([](config::Config& c) { c.preselect.size = 0, c.preselect.multiple = 8; }), 2u);
  // keys that change speed, not results, or no stage reads
  EXPECT_EQ(first([](config::Config& c) { c.embed.batch_tokens = 99; }), 6u);
  EXPECT_EQ(first([](config::Config& c) { c.grads.batch_size = 99; }), 6u);
  EXPECT_EQ(first([](config::Config& c) { c.store.block_rows = 7; }), 6u);
  // the reason names the key and both values
  config::Config c = f.cfg;
  c.grads.dim = 64;
  EXPECT_EQ(f.plan(c)[3], "config grads.dim: 8192 -> 64");
  EXPECT_EQ(f.plan(c)[4], "an earlier stage ran");
}

TEST(PipelineManifest, InputAndOutputChangesRedo) {
  ManifestFixture f;
  f.run_all(f.cfg);
  // candidates: embed onwards (warmup reads only the domain set)
  f.dir.write("c.jsonl", "{\"prompt\": \"q2\", \"response\": \"s\"}\n");
  EXPECT_EQ(f.first_redone(f.cfg), 1u);
  EXPECT_NE(f.plan(f.cfg)[1].find("input " + fs::absolute(f.cfg.data.candidates[0]).string() + ": changed"),
            std::string::npos)
      << f.plan(f.cfg)[1];
  f.run_all(f.cfg);
  EXPECT_EQ(f.first_redone(f.cfg), 6u);
  f.dir.write("domain.jsonl", "{\"prompt\": \"p2\", \"response\": \"r\"}\n");
  EXPECT_EQ(f.first_redone(f.cfg), 0u);
  f.run_all(f.cfg);
  f.dir.write("model/model.safetensors", "weights A2");
  EXPECT_EQ(f.first_redone(f.cfg), 0u);
  f.run_all(f.cfg);
  // an output removed or rewritten behind the stage's back
  fs::remove(f.dir.file("run/score/scores.h5"));
  EXPECT_EQ(f.plan(f.cfg)[4], "output scores.h5: missing");
  EXPECT_EQ(f.first_redone(f.cfg), 4u);
  f.run_stage("score", f.cfg);
  EXPECT_EQ(f.first_redone(f.cfg), 6u);  // same bytes, new mtime: select's upstream digest changes
  // an interrupted stage: no manifest
  fs::remove(pipeline::manifest_path(f.cfg, "grads"));
  EXPECT_EQ(f.first_redone(f.cfg), 3u);
}

TEST(PipelineManifest, AStandaloneRerunOfAnUpstreamStageInvalidatesTheLaterOnes) {
  ManifestFixture f;
  f.run_all(f.cfg);
  f.version = 1;
  f.run_stage("warmup", f.cfg);  // a new adapter
  const auto p = f.plan(f.cfg);
  EXPECT_TRUE(p[0].empty());
  EXPECT_EQ(p[1], "upstream warmup changed");
}

TEST(PipelineManifest, MissingUpstreamOutputNamesTheFileAndTheStage) {
  ManifestFixture f;
  const std::string msg = error_of<InputError>([&] { f.run_stage("score", f.cfg); });
  EXPECT_NE(msg.find(fs::absolute(f.dir.file("run/grads/domain_mean.h5")).string() + ": missing"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("made by the grads stage"), std::string::npos) << msg;
  EXPECT_NE(msg.find("ntk-select grads"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(f.dir.file("run/score/scores.h5")));  // the body never ran
}

TEST(PipelineManifest, OutputsOfAnotherModelOrAdapterAreRefused) {
  ManifestFixture f;
  f.run_all(f.cfg);
  config::Config other = f.cfg;
  other.model.path = f.dir.file("other");
  const std::string msg = error_of<InputError>([&] { f.run_stage("embed", other); });
  EXPECT_NE(msg.find(pipeline::manifest_path(f.cfg, "warmup")), std::string::npos) << msg;
  EXPECT_NE(msg.find("model " + fs::absolute(f.dir.file("model")).string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("model " + fs::absolute(f.dir.file("other")).string()), std::string::npos) << msg;
  // the same model copied elsewhere is the same model
  fs::copy(f.dir.file("model"), f.dir.file("copy"), fs::copy_options::recursive);
  config::Config copy = f.cfg;
  copy.model.path = f.dir.file("copy");
  f.run_stage("embed", copy);

  // a new warm-up adapter, while the pre-selection still comes from the old one
  f.version = 1;
  f.run_stage("warmup", f.cfg);
  const std::string a = error_of<InputError>([&] { f.run_stage("grads", f.cfg); });
  EXPECT_NE(a.find(pipeline::manifest_path(f.cfg, "preselect")), std::string::npos) << a;
  EXPECT_NE(a.find("adapter " + fs::absolute(f.dir.file("run/warmup")).lexically_normal().string()),
            std::string::npos)
      << a;
  // rerunning the stages in between clears it
  f.run_stage("embed", f.cfg);
  f.run_stage("preselect", f.cfg);
  f.run_stage("grads", f.cfg);
}

TEST(PipelineManifest, FingerprintsTellContentAndMtime) {
  TempDir d;
  const std::string p = d.write("a.txt", "hello");
  const auto a = pipeline::fingerprint_file(p);
  EXPECT_TRUE(a.exists);
  EXPECT_TRUE(a.whole);
  EXPECT_EQ(a.size, 5u);
  d.write("b.txt", "hello");
  const auto b = pipeline::fingerprint_file(d.file("b.txt"));
  EXPECT_TRUE(a.same_content(b));
  EXPECT_FALSE(a.unchanged(b));  // another path
  d.write("a.txt", "hellp");
  EXPECT_FALSE(a.unchanged(pipeline::fingerprint_file(p)));
  EXPECT_FALSE(pipeline::fingerprint_file(d.file("none")).exists);
}

}  // namespace
