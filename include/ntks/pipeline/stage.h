#pragma once
// The stages of a run (DESIGN §3 'pipeline', §5) and their manifests.
//
// Every stage command (warmup, embed, preselect, grads, score, select) runs
// through run_stage(), standalone or under `ntk-select run`. It refuses to
// start when a file the stage reads is missing (naming the stage that makes
// it) or was made from another model or adapter, removes the stage's old
// manifest, runs the stage, and then writes RUN/<stage>/manifest.json LAST
// (temporary file + rename): a stage killed mid-way leaves no manifest.
//
// A manifest holds the stage's identity — the config keys it depends on and
// their hash, the options it was called with, the fingerprints of its input
// files, the digests of the upstream manifests it read — and its outputs
// (size, mtime, rows), the model/adapter it descends from, versions, ranks and
// wall time. stale_reason() compares a manifest with the identity the stage
// would have now: a rerun skips a stage with an empty reason.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "ntks/config/config.h"

namespace ntks::dist {
class Communicator;
}

namespace ntks::pipeline {

/// warmup, embed, preselect, grads, score, select: the order of `run`.
const std::vector<std::string>& stage_names();
bool is_stage(const std::string& name);
/// Position of `name` in stage_names(); UsageError naming `what` (e.g.
/// "--from") and the nearest stage name otherwise.
size_t stage_index(const std::string& name, const std::string& what);

/// The options a stage command was given explicitly, as text ("which" ->
/// "all", "ids-file" -> "/abs/RUN/preselect/preselected_ids.txt"). Values
/// that name existing files or folders are made absolute by the caller.
using StageOptions = std::map<std::string, std::string>;

/// Whether a call computes the whole stage: not `--which domain|candidates`,
/// not one array task (`--shard`). Only such calls write a manifest.
bool whole_stage(const StageOptions& options);

/// RUN/<stage> and RUN/<stage>/manifest.json (RUN = run.dir).
std::string stage_dir(const config::Config& cfg, const std::string& stage);
std::string manifest_path(const config::Config& cfg, const std::string& stage);

/// Why the stage's outputs do not match what it would compute now ("no
/// manifest", "config grads.dim: 64 -> 128", "input /d/c.jsonl changed",
/// "upstream embed changed", "output candidates.json changed"); empty when
/// they do. Reads files: call it on one rank.
std::string stale_reason(const config::Config& cfg, const std::string& stage, const StageOptions& options);

/// plan_run's word for a stage select.method does not use (random needs no
/// model, knn no gradients): skipped without looking at its files.
inline constexpr const char* kNotNeeded = "-";

/// What `run` does with stages 0..options.size()-1: for each, empty to skip
/// it (up to date), kNotNeeded to skip it unused, else why it runs. Stages from `forced_from` on run for
/// `forced_why` (--from, --force); once one stage runs, every later one does,
/// since it reads what that one rewrites. options[i]: stage i's options.
std::vector<std::string> plan_run(const config::Config& cfg, const std::vector<StageOptions>& options,
                                  size_t forced_from, const std::string& forced_why);

/// Runs `body` (the stage command) on every rank as described above; returns
/// its exit code. Errors found before the body are thrown on rank 0 (the
/// guard ends the other ranks).
int run_stage(const config::Config& cfg, dist::Communicator& comm, const std::string& stage,
              const StageOptions& options, const std::function<int()>& body);

/// What a finished stage's manifest says, for summaries.
struct StageSummary {
  bool present = false;
  double seconds = 0;   ///< wall time of the run that wrote it
  std::string digest;   ///< identity and outputs, as downstream manifests record it
  std::vector<std::pair<std::string, int64_t>> counts;  ///< ("candidates", 23), in display order
  std::vector<std::string> outputs;                     ///< file names in RUN/<stage>/
};
StageSummary read_summary(const config::Config& cfg, const std::string& stage);

/// One stage's part in a `run`.
struct StageTiming {
  std::string stage;
  std::string status;  ///< "ran", "up to date" or "not run" (after --to)
  double seconds = 0;
};

/// RUN/manifest.json after a complete run: config hash and text, the input
/// files' fingerprints, versions, ranks, each stage's status, time, counts and
/// manifest digest, the total time. Written atomically on the calling rank.
void write_run_manifest(const config::Config& cfg, int ranks, const std::vector<StageTiming>& stages,
                        double seconds);
/// RUN/manifest.json
std::string run_manifest_path(const config::Config& cfg);

}  // namespace ntks::pipeline
