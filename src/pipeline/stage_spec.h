#pragma once
// What each stage depends on: the table behind manifests (private to
// src/pipeline). Adding a stage means adding a row in stage_spec.cpp.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "ntks/config/config.h"

namespace ntks::pipeline::detail {

struct StageSpec {
  std::string name;
  /// Config keys the stage depends on: a group ("model": every model.* key)
  /// or one key ("data.domain").
  std::vector<std::string> keys;
  /// Keys inside `keys` that change speed, never results (batch sizes): the
  /// feature files' own metadata leaves them out too.
  std::vector<std::string> ignored;
  bool uses_model = false;    ///< model folder files (and model.tokenizer) are inputs
  bool uses_adapter = false;  ///< --adapter: default RUN/warmup, "none", or a folder
  bool domain = false;        ///< data.domain is an input
  bool candidates = false;    ///< data.candidates are inputs
  /// Files of upstream stages it always reads ("embed/domain.h5"); options
  /// that name a file inside RUN/<stage>/ add to these.
  std::vector<std::string> reads;
  /// Files of upstream stages it reads when they exist (the pre-selection,
  /// which score and select use for checks and columns when present).
  std::vector<std::string> optional_reads;
  /// (label, output file) pairs counted for summaries: lines of .txt/.jsonl,
  /// rows of .h5 feature files and .json feature sets.
  std::vector<std::pair<std::string, std::string>> counts;
  /// Feature files (.h5) and sets (.json) whose rows are either computed or
  /// copied from an earlier run (--reuse): the manifest counts "computed" and
  /// "reused" rows over them.
  std::vector<std::string> feature_outputs;
  /// Options that change how a stage works, never its results (--reuse): left
  /// out of its identity.
  std::vector<std::string> ignored_options;
  /// Whether select.method needs the stage; `run` skips one it does not need
  /// (random needs no model, knn no gradients).
  bool used = true;
};

/// The stage as select.method of `cfg` runs it: the score and select stages
/// read what that method scores from and takes its domain lines from.
const StageSpec& stage_spec(const config::Config& cfg, const std::string& name);
/// The same for a method (stage names, counts and keys do not depend on it).
const StageSpec& stage_spec(config::SelectMethod method, const std::string& name);

/// The config keys the stage depends on, "key" -> canonical value, with
/// derived values (the resolved pre-selection size) added.
std::map<std::string, std::string> stage_config(const config::Config& cfg, const StageSpec& spec);

}  // namespace ntks::pipeline::detail
