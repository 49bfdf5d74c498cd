#pragma once
// Training checkpoints, for resuming a training run after a kill, a SIGTERM
// or a time limit.
//
// ROOT/step-0000200/ holds the trained weights — for full-parameter training
// config.json + model.safetensors (fp32: a Hugging Face folder that loads as
// a model), for LoRA training adapter_config.json +
// adapter_model.safetensors (a PEFT folder, model/adapter.h) — and
// optimizer.safetensors (AdamW's moments, "m.<name>" and "v.<name>") and
// state.json (steps done, the run's identity, the last loss). A checkpoint is
// written as step-N.partial/ and renamed when complete, so a crash mid-write
// leaves a folder no resume takes; older checkpoints are removed after the
// rename. A resume loads the folder as the model (Decoder::load) or the
// adapter (load_adapter) and the moments with read_resume_state().

#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

#include "ntks/model/decoder.h"
#include "ntks/train/adamw.h"
#include "ntks/train/trainer.h"

namespace ntks::train {

struct CheckpointInfo {
  int64_t step = 0;          ///< optimizer steps done
  int64_t total_steps = 0;   ///< the schedule's length
  std::string identity;      ///< JSON object: what the run's result depends on
  double loss = 0;           ///< the last step's loss
};

struct Checkpoint {
  std::string folder;
  CheckpointInfo info;
};

/// What a checkpoint holds of the decoder: every weight, or the LoRA adapter.
enum class CheckpointWeights { model, adapter };

/// Writes DIR/optimizer.safetensors: m[i] and v[i] as "m.<names[i]>" and
/// "v.<names[i]>", `steps` in the header's metadata (the checkpoints' file;
/// the warm-up leaves one beside its adapter for LESS).
void write_moments(const std::string& dir, const std::vector<std::string>& names, const std::vector<at::Tensor>& m,
                   const std::vector<at::Tensor>& v, int64_t steps);

/// Writes ROOT/step-<info.step>/ (see above) and keeps the newest `keep`.
/// `names[i]` names optimizer parameter i (its weight's checkpoint name).
void save_checkpoint(const std::string& root, const model::Decoder& decoder, const std::vector<std::string>& names,
                     const AdamW& optimizer, const CheckpointInfo& info,
                     CheckpointWeights weights = CheckpointWeights::model, int keep = 2);

/// The newest complete checkpoint under ROOT (none when ROOT does not exist).
/// InputError naming the file when a complete one's state.json is unreadable.
std::optional<Checkpoint> latest_checkpoint(const std::string& root);

/// The AdamW moments of `names` stored with `c`, on `device`; InputError
/// naming the file and tensor when one is missing or mis-shaped.
ResumeState read_resume_state(const Checkpoint& c, const std::vector<std::string>& names,
                              const std::vector<at::Tensor>& params);

/// Test hook of the resume tests: with NTKS_TEST_KILL_AFTER_STEPS=n the
/// process kills itself (SIGKILL: no handler, no flush) when called with n,
/// after step n and its hooks, as a node failure or an OOM kill would.
void test_kill_point(int64_t steps_done);

}  // namespace ntks::train
