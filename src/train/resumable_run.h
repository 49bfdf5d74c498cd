#pragma once
// What the resumable training jobs (pretrain.h, finetune.h) share around the
// loop (private to src/train): whether the result is up to date, where a run
// continues, and writing a checkpoint from every rank's hooks.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ntks/dist/communicator.h"
#include "ntks/train/checkpoint.h"

namespace ntks::train::detail {

/// The identity a finished run recorded in `summary` (a JSON file with an
/// "identity" key), compact; empty when it or `result` (the file that makes
/// the output complete) is missing, or it is unreadable (train again).
std::string finished_identity(const std::string& summary, const std::string& result);

/// The newest checkpoint under `root` when it is one of `identity`; nullopt
/// when there is none (a fresh start). InputError naming the differences
/// (`data_key`: the key of the training files) and --restart otherwise;
/// `what` names the run in it ("pretraining").
std::optional<Checkpoint> resume_point(const std::string& root, const std::string& identity, const std::string& what,
                                       const std::string& data_key);

/// The steps and AdamW moments of checkpoint `folder` under `root` (what
/// resume_point gave rank 0; every rank reads them), for `params` named
/// `names`; nullopt when `folder` is "fresh".
std::optional<ResumeState> resume_state(const std::string& root, const std::string& folder,
                                        const std::vector<std::string>& names, const std::vector<at::Tensor>& params);

/// Whether a periodic checkpoint is due after `steps_done`: every `every`
/// steps (0: never), not after the last step (the output follows).
bool checkpoint_due(int64_t steps_done, int64_t every, int64_t total_steps);

/// Called on every rank from the hooks: rank 0 writes the checkpoint of
/// `info.step` under `root`, calls `written` (the loss curve) and logs it;
/// every rank waits for it.
void write_checkpoint(dist::Communicator& comm, const std::string& root, const model::Decoder& decoder,
                      const std::vector<std::string>& names, const AdamW& optimizer, const CheckpointInfo& info,
                      CheckpointWeights weights, const std::function<void()>& written);

}  // namespace ntks::train::detail
