// `ntk-select pretrain`: full-parameter pretraining of a small proxy model
// from random initialisation (train/pretrain.h).

#include <torch/torch.h>

#include <fmt/format.h>

#include <iostream>

#include "command.h"
#include "ntks/log/progress.h"
#include "ntks/train/pretrain.h"

namespace ntks::cli {
namespace {

int pretrain_main(Context& ctx) {
  train::PretrainRequest request;
  request.restart = ctx.args.count("restart") > 0;
  request.force = ctx.args.count("force") > 0;
  request.threads = std::max(1, at::get_num_threads());
  const train::PretrainOutcome o = train::pretrain(ctx.cfg, ctx.comm, request);
  if (!ctx.comm.is_root()) return 0;
  if (o.skipped) {
    std::cout << fmt::format("pretrain: up to date, skipped: {} was trained from the same config and inputs "
                             "(--force trains again)",
                             o.out)
              << std::endl;
    return 0;
  }
  const double rate = o.seconds > 0 ? static_cast<double>(o.tokens) / o.seconds : 0;
  std::string resumed = o.resumed_from > 0 ? fmt::format(" (continued after step {})", o.resumed_from) : "";
  std::string before = o.initial.tokens > 0 ? fmt::format("{:.2f} -> ", o.initial.perplexity) : "";
  std::cout << fmt::format("pretrain: {:.2f}M parameters, {} steps{} on {} rank(s), {:.2f}M tokens in {} ({:.0f} "
                           "tokens/s); training loss {:.3f} -> {:.3f}; held-out perplexity {}{:.2f} (loss {:.4f}, {} "
                           "tokens); model in {}, loss curve in {}/loss_curve.svg",
                           static_cast<double>(o.parameters) / 1e6, o.steps, resumed, ctx.comm.size(),
                           static_cast<double>(o.tokens) / 1e6, log::format_duration(o.seconds), rate, o.first_loss,
                           o.last_loss, before, o.final.perplexity, o.final.loss, o.final.tokens, o.out, o.run_dir)
            << std::endl;
  return 0;
}

}  // namespace

Command pretrain_command() {
  Command c;
  c.name = "pretrain";
  c.computes = true;
  c.summary = "pretrain a small proxy model from scratch on real text (full parameters); writes a HF model folder";
  c.description =
      "Trains every weight of the random checkpoint at model.path (make it with `ntk-select make-model\n"
      "--pretrain-init --tokenizer TOK.json ...`) as a causal language model on the documents of\n"
      "pretrain.corpus (JSONL, text in pretrain.text_field; `ntk-select pretrain-data` writes one),\n"
      "tokenized with model.tokenizer. Documents are joined by the end-of-text token and cut into\n"
      "sequences of pretrain.seq_len tokens; a pretrain.eval_share of the documents (by content hash)\n"
      "is held out, and the mean next-token loss and perplexity on up to pretrain.eval_sequences of\n"
      "their sequences are logged every pretrain.eval_every steps and at the end.\n\n"
      "Optimizer: AdamW (pretrain.lr, pretrain.beta2, pretrain.weight_decay on matrices and embeddings,\n"
      "none on norms and biases), pretrain.schedule after ceil(pretrain.warmup_ratio x steps) linear\n"
      "warm-up steps, clipping at pretrain.max_grad_norm; a step uses pretrain.batch_size x\n"
      "pretrain.grad_accum sequences over all ranks (one gradient allreduce per step under mpirun;\n"
      "the result does not depend on the rank count beyond float summation order). pretrain.epochs\n"
      "passes, or pretrain.max_steps steps.\n\n"
      "Resuming: a checkpoint is written every pretrain.checkpoint_every steps and on SIGTERM/SIGINT\n"
      "(then the exit status is 75); rerunning the same command continues after the newest one, on\n"
      "any rank count. A checkpoint of another config or other inputs is an error naming what\n"
      "differs (--restart discards it). A rerun that finds the model trained from the same config\n"
      "and inputs does nothing.\n\n"
      "Writes RUN/pretrain/ (RUN = run.dir): train_log.jsonl (per step), eval_log.jsonl (held-out\n"
      "evaluations), loss_curve.svg, checkpoints/ (removed when training completes); and the model\n"
      "folder pretrain.out (default RUN/pretrain/model): config.json, model.safetensors (fp32),\n"
      "tokenizer.json, tokenizer_config.json and pretrain.json (steps, tokens, held-out loss and\n"
      "perplexity, inputs). Prints one summary line on stdout.";
  c.options = [](po::options_description& o) {
    o.add_options()
        ("restart", "discard the checkpoints and logs of an earlier run and start from model.path")
        ("force", "train even when pretrain.out holds a model made from the same config and inputs");
  };
  c.run = pretrain_main;
  return c;
}

}  // namespace ntks::cli
