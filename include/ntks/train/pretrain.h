#pragma once
// `ntk-select pretrain` (DESIGN §10): full-parameter causal-LM training of a
// small Llama/Qwen3-shaped model from random initialisation, so that the
// selection can be judged with a model that knows language.
//
// The same loop as the warm-up (train.h) over every weight instead of the
// LoRA adapter: packed sequences (packing.h), AdamW without decay on norms
// and biases, linear warm-up then cosine, clipping, one gradient allreduce a
// step over the ranks. The run folder RUN/pretrain/ (RUN = run.dir) holds
//   checkpoints/step-N/   resumable checkpoints (checkpoint.h), the newest two
//   train_log.jsonl       one line per step: step, epoch, lr, loss, grad_norm, samples, tokens, tokens_seen, seconds
//   eval_log.jsonl        one line per held-out evaluation: step, loss, perplexity, tokens
//   loss_curve.svg        training loss and held-out loss against tokens seen
// and the trained model goes to pretrain.out (default RUN/pretrain/model):
// config.json, model.safetensors, tokenizer.json (+ tokenizer_config.json
// when the tokenizer's folder has one) and pretrain.json (what it was trained
// on, for how long, its held-out loss and perplexity), built as OUT.partial/
// and renamed when complete.
//
// A run's identity is everything its weights depend on: the pretrain.* keys
// (less the reporting ones: out, eval_every, eval_sequences,
// checkpoint_every), run.seed, model.dtype, the initial weights' digest, the
// tokenizer file and the corpus files' fingerprints. A rerun with the same
// identity finds the model made and does nothing (--force trains again); one
// that finds a checkpoint of the same identity continues after it (also on
// another rank count: ranks only change the summation order); a checkpoint
// of another identity is an error that names the differences (--restart
// discards it).

#include <cstdint>
#include <string>

#include "ntks/config/config.h"
#include "ntks/dist/communicator.h"
#include "ntks/train/evaluate.h"

namespace ntks::train {

struct PretrainRequest {
  bool restart = false;  ///< discard checkpoints and logs of an earlier run
  bool force = false;    ///< train even when the model is up to date
  int threads = 1;       ///< tokenizer threads
};

struct PretrainOutcome {
  bool skipped = false;        ///< the model was up to date
  std::string out;             ///< the model folder
  std::string run_dir;         ///< RUN/pretrain
  int64_t parameters = 0;
  int64_t steps = 0, total_steps = 0, resumed_from = 0;
  int64_t train_sequences = 0, eval_sequences = 0;
  int64_t tokens = 0;          ///< trained on by this process
  double seconds = 0;          ///< training time of this process
  double first_loss = 0, last_loss = 0;
  HeldOutLoss initial, final;  ///< held-out loss before (fresh runs) and after training
};

/// Runs on every rank of `comm`; rank 0 writes the files.
PretrainOutcome pretrain(const config::Config& cfg, dist::Communicator& comm, const PretrainRequest& request);

/// The identity of a pretraining run as a JSON object (see above and
/// identity.h).
std::string pretrain_identity(const config::Config& cfg);

}  // namespace ntks::train
