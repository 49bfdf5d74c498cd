#pragma once
// The warm-up trainer (DESIGN §2 step 1, §4): LoRA training on the domain
// set, data parallel over the ranks of a communicator.
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
#include <vector>

#include "ntks/config/config.h"
#include "ntks/data/sample_reader.h"
#include "ntks/dist/communicator.h"
#include "ntks/model/decoder.h"
#include "ntks/train/adamw.h"

namespace ntks::train {

struct TrainOptions {
  int64_t epochs = 3;              ///< passes over the samples
  double lr = 5e-4;                ///< peak learning rate
  config::Schedule schedule = config::Schedule::cosine;  ///< after the linear warm-up
  double warmup_ratio = 0.03;      ///< warm-up steps = ceil(ratio × total steps)
  double max_grad_norm = 1.0;      ///< clip the averaged gradient's global norm; 0: off
  int64_t batch_size = 8;          ///< samples per micro-batch (at most)
  int64_t grad_accum = 8;          ///< step size = batch_size × grad_accum samples over all ranks
  uint64_t seed = 42;              ///< epoch order and dropout masks
  AdamWOptions adamw;              ///< betas, eps, weight decay
  int64_t log_every = 0;           ///< a loss line every N steps; 0: about 20 lines per run

  /// warmup.* and run.seed of a config.
  static TrainOptions from_config(const config::Config& cfg);
};

/// One optimizer step, as written to train_log.jsonl.
struct StepLog {
  int64_t step = 0;       ///< 1-based
  double epoch = 0;       ///< fractional: steps done / steps per epoch
  double lr = 0;          ///< learning rate the step used
  double loss = 0;        ///< mean over the step's samples of their loss
  double grad_norm = 0;   ///< global norm of the averaged gradient before clipping
  int64_t samples = 0;    ///< samples in the step (all ranks)
};

struct TrainResult {
  int64_t steps = 0;
  int64_t steps_per_epoch = 0;
  int64_t warmup_steps = 0;
  double first_loss = 0, last_loss = 0;
  double seconds = 0;
};

/// Trains the decoder's LoRA adapter (which must be attached) in place. Every
/// rank passes the same `samples` in the same order. `on_step` runs on every
/// rank after each step.
TrainResult train_lora(model::Decoder& decoder, const std::vector<data::Sample>& samples, const TrainOptions& options,
                       dist::Communicator& comm, const std::function<void(const StepLog&)>& on_step = {});

/// Throws DistError unless `tensors` hold the same bytes on every rank
/// (a 64-bit hash compared by allreduce).
void check_identical_across_ranks(const std::vector<at::Tensor>& tensors, dist::Communicator& comm);

}  // namespace ntks::train
