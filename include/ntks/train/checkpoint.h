#pragma once
// Training checkpoints, for resuming a full-parameter training run after a
// kill, a SIGTERM or a time limit.
//
// ROOT/step-0000200/ holds config.json + model.safetensors (the weights in
// fp32: a Hugging Face folder that loads as a model), optimizer.safetensors
// (AdamW's moments, "m.<weight name>" and "v.<weight name>") and state.json
// (steps done, the run's identity, the last loss). A checkpoint is written as
// step-N.partial/ and renamed when complete, so a crash mid-write leaves a
// folder no resume takes; older checkpoints are removed after the rename.

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

/// Writes ROOT/step-<info.step>/ (see above) and keeps the newest `keep`.
/// `names[i]` names optimizer parameter i (its weight's checkpoint name).
void save_checkpoint(const std::string& root, const model::Decoder& decoder, const std::vector<std::string>& names,
                     const AdamW& optimizer, const CheckpointInfo& info, int keep = 2);

/// The newest complete checkpoint under ROOT (none when ROOT does not exist).
/// InputError naming the file when a complete one's state.json is unreadable.
std::optional<Checkpoint> latest_checkpoint(const std::string& root);

/// The AdamW moments of `names` stored with `c`, on `device`; InputError
/// naming the file and tensor when one is missing or mis-shaped.
ResumeState read_resume_state(const Checkpoint& c, const std::vector<std::string>& names,
                              const std::vector<at::Tensor>& params);

}  // namespace ntks::train
