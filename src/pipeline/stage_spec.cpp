// The stage table: which config keys, input files and upstream files each
// stage depends on (DESIGN §2 steps 1-6, §5 run directory).

#include "stage_spec.h"

#include <algorithm>

#include "ntks/config/enums.h"
#include "ntks/config/load.h"
#include "ntks/pipeline/stage.h"
#include "ntks/util/error.h"
#include "ntks/util/strings.h"

namespace ntks::pipeline::detail {
namespace {

// The data keys that shape the domain samples (not the candidate list).
const std::vector<std::string> kDomainData = {"data.domain", "data.format", "data.fields", "data.on_error",
                                              "data.overlong"};

std::vector<std::string> plus(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<StageSpec> make_table(config::SelectMethod method) {
  std::vector<StageSpec> t(6);
  t[0].name = "warmup";
  t[0].keys = plus({"model", "lora", "warmup", "run.seed"}, kDomainData);
  t[0].uses_model = t[0].domain = true;
  t[0].counts = {{"steps", "train_log.jsonl"}, {"skipped", "skipped.jsonl"}};

  t[1].name = "embed";
  t[1].keys = {"model", "data", "embed", "store.dtype"};
  t[1].ignored = {"embed.batch_tokens"};
  t[1].uses_model = t[1].uses_adapter = t[1].domain = t[1].candidates = true;
  t[1].counts = {{"domain", "domain.h5"}, {"candidates", "candidates.json"}};
  t[1].feature_outputs = {"domain.h5", "candidates.json"};
  t[1].ignored_options = {"reuse"};

  t[2].name = "preselect";
  // preselect.size / multiple enter through the resolved size (stage_config).
  t[2].keys = {"preselect", "run.seed"};  // run.seed: the IVF training sample
  t[2].ignored = {"preselect.size", "preselect.multiple", "preselect.recall_sample"};
  t[2].reads = {"embed/domain.h5", "embed/candidates.json"};
  t[2].counts = {{"preselected", "preselected_ids.txt"}};

  t[3].name = "grads";
  t[3].keys = {"model", "data", "grads", "store.dtype"};
  t[3].ignored = {"grads.batch_size"};
  t[3].uses_model = t[3].uses_adapter = t[3].domain = t[3].candidates = true;
  t[3].counts = {{"domain", "domain.h5"}, {"candidates", "candidates.json"}};
  t[3].feature_outputs = {"domain.h5", "candidates.json"};
  t[3].ignored_options = {"reuse"};

  t[4].name = "score";
  t[4].keys = {"score", "select.method"};
  t[4].reads = {"grads/domain_mean.h5", "grads/domain.h5", "grads/candidates.json"};
  t[4].optional_reads = {"preselect/preselected.h5"};
  t[4].counts = {{"scored", "scores.h5"}};

  t[5].name = "select";
  t[5].keys = {"select", "run.seed", "data"};
  t[5].domain = t[5].candidates = true;
  t[5].reads = {"score/scores.h5", "grads/domain.h5"};
  t[5].optional_reads = {"preselect/preselected.h5"};
  t[5].counts = {{"selected", "selected_ids.txt"}, {"mixture", "mixture.jsonl"}};

  // The baselines: what their scores come from, and which domain lines enter
  // the mixture (those the method computed features of; all that parse when
  // it needs none).
  switch (method) {
    case config::SelectMethod::ntk:
      break;
    case config::SelectMethod::knn:
      t[3].used = false;
      t[4].reads = {"preselect/preselected.h5"};
      t[4].optional_reads = {};
      t[5].reads = {"score/scores.h5", "embed/domain.h5", "preselect/preselected.h5"};
      t[5].optional_reads = {};
      break;
    case config::SelectMethod::random:
      t[0].used = t[1].used = t[2].used = t[3].used = false;
      t[4].keys = {"score", "select.method", "run.seed", "data"};
      t[4].candidates = true;
      t[4].reads = t[4].optional_reads = {};
      t[5].reads = {"score/scores.h5"};
      t[5].optional_reads = {};
      break;
    case config::SelectMethod::dsir:  // no model: n-grams of the raw text
      t[0].used = t[1].used = t[2].used = t[3].used = false;
      t[4].keys = {"score", "select.method", "run.seed", "data", "dsir"};
      t[4].domain = t[4].candidates = true;
      t[4].reads = t[4].optional_reads = {};
      t[5].reads = {"score/scores.h5"};
      t[5].optional_reads = {};
      break;
    case config::SelectMethod::tsds:  // the warmed-up model's embeddings
      t[2].used = t[3].used = false;
      t[4].keys = {"score", "select.method", "run.seed", "tsds"};
      t[4].reads = {"embed/domain.h5", "embed/candidates.json"};
      t[4].optional_reads = {};
      t[5].reads = {"score/scores.h5", "embed/domain.h5"};
      t[5].optional_reads = {};
      break;
    case config::SelectMethod::less:
      // The warm-up trains on a sample of the candidates; gradients of every
      // candidate, preconditioned by its optimizer state.
      t[0].keys = {"model", "lora", "warmup", "run.seed", "less.warmup_samples", "data"};
      t[0].domain = false;
      t[0].candidates = true;
      t[1].used = t[2].used = false;
      t[3].keys = {"model", "data", "grads", "store.dtype", "select.method"};
      t[3].reads = {"warmup/optimizer.safetensors"};
      t[4].keys = {"score", "select.method", "less.reduce"};
      t[4].reads = {"grads/domain.h5", "grads/candidates.json"};
      t[4].optional_reads = {};
      t[5].optional_reads = {};
      break;
  }
  return t;
}

const std::vector<StageSpec>& table(config::SelectMethod method) {
  static const std::vector<std::vector<StageSpec>> all = [] {
    std::vector<std::vector<StageSpec>> v;
    for (size_t m = 0; m < config::EnumNames<config::SelectMethod>::names.size(); ++m)
      v.push_back(make_table(static_cast<config::SelectMethod>(m)));
    return v;
  }();
  return all.at(static_cast<size_t>(method));
}

bool in_group(const std::string& key, const std::string& group) {
  return key == group || (key.size() > group.size() && key.compare(0, group.size(), group) == 0 &&
                          key[group.size()] == '.');
}

}  // namespace

const StageSpec& stage_spec(config::SelectMethod method, const std::string& name) {
  for (const StageSpec& s : table(method))
    if (s.name == name) return s;
  throw InternalError(fmt::format("no stage named '{}'", name));
}

const StageSpec& stage_spec(const config::Config& cfg, const std::string& name) {
  return stage_spec(cfg.select.method, name);
}

std::map<std::string, std::string> stage_config(const config::Config& cfg, const StageSpec& spec) {
  std::map<std::string, std::string> out;
  for (const std::string& line : split(config::canonical_text(cfg), '\n')) {
    const size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = line.substr(0, eq);
    const auto any = [&](const std::vector<std::string>& groups) {
      return std::any_of(groups.begin(), groups.end(), [&](const std::string& g) { return in_group(key, g); });
    };
    if (any(spec.keys) && !any(spec.ignored)) out[key] = line.substr(eq + 1);
  }
  // m = preselect.size, or preselect.multiple x select.size: the value counts,
  // not how it was spelled, so select.size alone matters only through it.
  if (spec.name == "preselect") out["preselect.size (resolved)"] = std::to_string(config::preselect_size(cfg));
  return out;
}

}  // namespace ntks::pipeline::detail

namespace ntks::pipeline {

const std::vector<std::string>& stage_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& s : detail::table(config::SelectMethod::ntk)) n.push_back(s.name);
    return n;
  }();
  return names;
}

bool is_stage(const std::string& name) {
  const auto& n = stage_names();
  return std::find(n.begin(), n.end(), name) != n.end();
}

size_t stage_index(const std::string& name, const std::string& what) {
  const auto& n = stage_names();
  const auto it = std::find(n.begin(), n.end(), name);
  if (it == n.end())
    throw UsageError(fmt::format("{} {}: no such stage; did you mean '{}'? (stages: {})", what, name,
                                 nearest(name, n), join(n, ", ")));
  return static_cast<size_t>(it - n.begin());
}

bool whole_stage(const StageOptions& options) {
  const auto which = options.find("which");
  if (which != options.end() && which->second != "all") return false;
  return options.count("shard") == 0 && options.count("num-shards") == 0;
}

}  // namespace ntks::pipeline
