#pragma once
// The one training loop (DESIGN §2 step 1, §4, §10): LoRA training on the
// domain set (warm-up) and full-parameter pretraining of the proxy model are
// the same loop over different parameter sets, data parallel over the ranks
// of a communicator.
//
// One optimizer step consumes batch_size × grad_accum samples in total (see
// plan.h), dealt to the ranks; each rank sums the per-sample losses of its
// micro-batches and back-propagates; one allreduce sums the flattened LoRA
// gradients (and the loss) and the sum is divided by the step's sample count,
// so the step's gradient is the mean over its samples of each sample's
// response-token-mean loss, whatever the rank count. The averaged gradient is
// clipped, the learning rate follows the schedule, and every rank applies the
// same AdamW update, so the weights stay bitwise identical (checked at the
// end).
//
// Dropout (lora.dropout) is drawn from torch's default generator, reseeded
// before each micro-batch from (seed, step, rank, micro-batch): a run is
// reproducible for a given seed and rank count, but the masks (and so the
// weights) change with the rank count, since the micro-batches do. With
// dropout 0 the result depends on the rank count only through floating-point
// summation order.

#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

#include "ntks/config/config.h"
#include "ntks/data/sample_reader.h"
#include "ntks/dist/communicator.h"
#include "ntks/model/decoder.h"
#include "ntks/train/adamw.h"

namespace ntks::train {

struct TrainOptions {
  std::string name = "warm-up";    ///< what trains, in log lines and errors
  std::string section = "warmup";  ///< config section whose keys errors name
  int64_t epochs = 3;              ///< passes over the samples
  int64_t max_steps = 0;           ///< stop after this many optimizer steps (the schedule's length); 0: all epochs
  double lr = 5e-4;                ///< peak learning rate
  config::Schedule schedule = config::Schedule::cosine;  ///< after the linear warm-up
  double warmup_ratio = 0.03;      ///< warm-up steps = ceil(ratio × total steps)
  double max_grad_norm = 1.0;      ///< clip the averaged gradient's global norm; 0: off
  int64_t batch_size = 8;          ///< samples per micro-batch (at most)
  int64_t grad_accum = 8;          ///< step size = batch_size × grad_accum samples over all ranks
  uint64_t seed = 42;              ///< epoch order and dropout masks
  AdamWOptions adamw;              ///< betas, eps, weight decay
  int64_t log_every = 0;           ///< a loss line every N steps; 0: about 20 lines per run
  std::string progress_unit = "steps";  ///< "tokens": the progress line counts tokens (pretraining)

  /// warmup.* and run.seed of a config.
  static TrainOptions from_config(const config::Config& cfg);
  /// The keys the warm-up and pretraining sections share (epochs, lr,
  /// schedule, warmup_ratio, max_grad_norm, batch_size, grad_accum,
  /// weight_decay) and the seed.
  template <class Section>
  static TrainOptions from_section(const Section& c, std::int64_t seed) {
    TrainOptions o;
    o.epochs = c.epochs;
    o.lr = c.lr;
    o.schedule = c.schedule;
    o.warmup_ratio = c.warmup_ratio;
    o.max_grad_norm = c.max_grad_norm;
    o.batch_size = c.batch_size;
    o.grad_accum = c.grad_accum;
    o.seed = static_cast<uint64_t>(seed);
    o.adamw.weight_decay = c.weight_decay;
    return o;
  }
};

/// One optimizer step, as written to train_log.jsonl.
struct StepLog {
  int64_t step = 0;       ///< 1-based
  double epoch = 0;       ///< fractional: steps done / steps per epoch
  double lr = 0;          ///< learning rate the step used
  double loss = 0;        ///< mean over the step's samples of their loss
  double grad_norm = 0;   ///< global norm of the averaged gradient before clipping
  int64_t samples = 0;    ///< samples in the step (all ranks)
  int64_t tokens = 0;     ///< tokens of those samples (all ranks)
  double seconds = 0;     ///< wall time since training started (this process)
};

struct TrainResult {
  int64_t steps = 0;          ///< optimizer steps taken, a resumed run's earlier ones included
  int64_t total_steps = 0;    ///< the schedule's length
  int64_t steps_per_epoch = 0;
  int64_t warmup_steps = 0;
  int64_t resumed_from = 0;   ///< steps a checkpoint had done before this run
  double first_loss = 0, last_loss = 0;  ///< of the first and last step this run took
  double seconds = 0;
  int64_t tokens = 0;         ///< tokens trained on by this run (all ranks)
  /// AdamW's moments after the last step, in the ParameterSet's order (LESS
  /// preconditions its candidate gradients with the warm-up's).
  std::vector<at::Tensor> first_moments, second_moments;
};

/// The tensors one run trains (leaves on the decoder's device; the loop turns
/// requires_grad on and off) and, per tensor, whether weight decay applies
/// (empty: all). Warm-up trains the LoRA adapter; pretraining every weight.
struct ParameterSet {
  std::vector<at::Tensor> tensors;
  std::vector<bool> decay;
};

/// Where a resumed run continues: the steps already taken and AdamW's moments
/// (the weights themselves are already in the decoder).
struct ResumeState {
  int64_t steps_done = 0;
  std::vector<at::Tensor> m, v;
};

/// Callbacks of one run; every rank calls them at the same points, so they
/// may run collectives (a held-out evaluation) and have rank 0 write files.
struct TrainHooks {
  std::function<void(const StepLog&)> on_step;  ///< after each step
  /// After each step (after on_step): evaluation, periodic checkpoints.
  std::function<void(int64_t steps_done, const AdamW&)> after_step;
  /// When set, SIGTERM/SIGINT during training stop it after the step in hand:
  /// the stop request travels in that step's allreduce, so every rank stops
  /// after the same step, calls this (the checkpoint) and then throws
  /// util::StopRequested (exit status 75); rerunning resumes. When not set,
  /// a signal ends the process as usual.
  std::function<void(int64_t steps_done, const AdamW&)> on_stop;
};

/// Optimizer steps a run of `options` over `samples` samples takes: epochs x
/// steps per epoch, capped by max_steps.
int64_t schedule_steps(int64_t samples, const TrainOptions& options);

/// The training loop behind warm-up and pretraining (see the top of this
/// file). Every rank passes the same `samples` in the same order; each
/// sample's loss is the mean NLL of its response tokens.
TrainResult train(model::Decoder& decoder, const ParameterSet& params, const std::vector<data::Sample>& samples,
                  const TrainOptions& options, dist::Communicator& comm, const TrainHooks& hooks = {},
                  const ResumeState* resume = nullptr);

/// Trains the decoder's LoRA adapter (which must be attached) in place. Every
/// rank passes the same `samples` in the same order. `on_step` runs on every
/// rank after each step.
TrainResult train_lora(model::Decoder& decoder, const std::vector<data::Sample>& samples, const TrainOptions& options,
                       dist::Communicator& comm, const std::function<void(const StepLog&)>& on_step = {});

/// The adapter a LoRA run trains: the shape the lora.* keys give.
model::LoraSpec lora_spec(const config::LoraConfig& c);

/// Throws DistError unless `tensors` hold the same bytes on every rank
/// (a 64-bit hash compared by allreduce).
void check_identical_across_ranks(const std::vector<at::Tensor>& tensors, dist::Communicator& comm);

}  // namespace ntks::train
