#pragma once
// `ntk-select finetune`: LoRA fine-tuning of the model on a training mixture,
// the training run by which a selection is judged (paper, appendix A.6.3,
// Table 5: LoRA r 32, alpha 16, dropout 0.05 on all seven projections, 3
// epochs, lr 5e-4 cosine with 3% warm-up, no weight decay, 8 x 8 samples a
// step). The loop is the warm-up's (trainer.h) over a fresh adapter
// (lora.*, initialised from the seed), data parallel over the ranks.
//
// The training set is finetune.data, or by default the selection's
// RUN/select/mixture.jsonl (RUN = run.dir), whose bytes must still be the
// ones `select` recorded in RUN/select/report.json; an explicit file is taken
// as it is. Its lines are read as every stage reads them (data.*, the chat
// template, model.max_seq_len; bad lines per data.on_error).
//
// The adapter folder finetune.out (default RUN/finetune/adapter) is built as
// OUT.partial/ and renamed when complete:
//   adapter_config.json, adapter_model.safetensors   the PEFT adapter
//   train_log.jsonl   one line per step: step, epoch, lr, loss, grad_norm, samples, tokens, tokens_seen, seconds
//   finetune.json     summary: identity, samples, steps, tokens, losses, seconds
//   loss_curve.svg    training loss against steps
//   skipped.jsonl     training lines that did not become samples
// While it trains, OUT.partial/checkpoints/step-N/ holds resumable
// checkpoints (the adapter, AdamW's moments, the state: checkpoint.h), every
// finetune.checkpoint_every steps and on SIGTERM/SIGINT (exit status 75);
// the same command continues after the newest, on any rank count.
//
// Identity: what the adapter depends on — the finetune.* keys but out,
// checkpoint_every and data (the file enters by fingerprint), run.seed when
// finetune.seed is 0, lora.*, model.dtype, model.template,
// model.max_seq_len, the data.* reading keys, the model's digest and the
// tokenizer's and training file's fingerprints (identity.h). A checkpoint of
// another identity is refused, naming the differences (--restart discards
// it); a finished adapter folder of the same identity is up to date (--force
// trains again).

#include <cstdint>
#include <string>

#include "ntks/config/config.h"
#include "ntks/dist/communicator.h"
#include "ntks/train/trainer.h"

namespace ntks::train {

struct FinetuneRequest {
  bool restart = false;  ///< discard the checkpoints of an earlier, unfinished run
  bool force = false;    ///< train even when the adapter folder is up to date
  /// > 0: also keep the adapter at the start (step 0, the fresh init) and
  /// after every this many steps and the last one, as PEFT folders
  /// OUT/snapshots/step-NNNNNNN/ (for `diagnose stability`); not part of the
  /// identity, but an adapter folder without snapshots is not up to date then.
  int64_t keep_adapters_every = 0;
};

struct FinetuneOutcome {
  bool skipped = false;      ///< the adapter was up to date
  std::string out;           ///< the adapter folder
  std::string data;          ///< the training file
  int64_t samples = 0;       ///< training samples
  int64_t parameters = 0;    ///< LoRA parameters
  TrainResult result;        ///< what the loop did in this process
  double first_loss = 0;     ///< of the run's first step, a resumed run's earlier part included
};

/// Runs on every rank of `comm`; rank 0 writes the files.
FinetuneOutcome finetune(const config::Config& cfg, dist::Communicator& comm, const FinetuneRequest& request);

/// finetune.data, else RUN/select/mixture.jsonl.
std::string finetune_data(const config::Config& cfg);
/// finetune.out, else RUN/finetune/adapter.
std::string finetune_out(const config::Config& cfg);
/// finetune.seed, else run.seed.
int64_t finetune_seed(const config::Config& cfg);

/// The identity of a fine-tuning run as a JSON object (see above).
std::string finetune_identity(const config::Config& cfg);

/// Checks that `mixture` (RUN/select/mixture.jsonl) holds the bytes `select`
/// wrote: the size and XXH3-64 recorded in RUN/select/report.json. InputError
/// naming both files and what to do otherwise (also when either is missing).
void check_selection_mixture(const std::string& run_dir, const std::string& mixture);

}  // namespace ntks::train
