// `ntk-select finetune`: LoRA fine-tuning of the model on a training mixture
// (train/finetune.h).

#include <fmt/format.h>

#include <iostream>

#include "command.h"
#include "ntks/log/progress.h"
#include "ntks/train/finetune.h"
#include "ntks/util/error.h"

namespace ntks::cli {
namespace {

int finetune_main(Context& ctx) {
  train::FinetuneRequest request;
  request.restart = ctx.args.count("restart") > 0;
  request.force = ctx.args.count("force") > 0;
  request.keep_adapters_every = ctx.args["keep-adapters"].as<int64_t>();
  if (request.keep_adapters_every < 0) throw UsageError("--keep-adapters: expected 0 (none) or a number of steps");
  const train::FinetuneOutcome o = train::finetune(ctx.cfg, ctx.comm, request);
  if (!ctx.comm.is_root()) return 0;
  if (o.skipped) {
    std::cout << fmt::format("finetune: up to date, skipped: {} was trained from the same config and inputs "
                             "(--force trains again)",
                             o.out)
              << std::endl;
    return 0;
  }
  const train::TrainResult& r = o.result;
  const std::string resumed = r.resumed_from > 0 ? fmt::format(" (continued after step {})", r.resumed_from) : "";
  std::cout << fmt::format("finetune: {} samples of {}, {} step(s){} on {} rank(s), {} LoRA parameters, loss {:.4f} "
                           "-> {:.4f}, {}; adapter in {}",
                           o.samples, o.data, r.steps, resumed, ctx.comm.size(), o.parameters, o.first_loss,
                           r.last_loss, log::format_duration(r.seconds), o.out)
            << std::endl;
  return 0;
}

}  // namespace

Command finetune_command() {
  Command c;
  c.name = "finetune";
  c.computes = true;
  c.summary = "LoRA-fine-tune the model on a training mixture (the selection's by default); writes a PEFT adapter";
  c.description =
      "Trains a fresh LoRA adapter (lora.r, lora.alpha, lora.dropout, lora.targets; initialised from\n"
      "finetune.seed, or run.seed when it is 0) on the training set finetune.data, by default the\n"
      "selection's RUN/select/mixture.jsonl (RUN = run.dir), which must still hold the bytes\n"
      "`ntk-select select` recorded in RUN/select/report.json; an explicit finetune.data file (the\n"
      "domain set alone, another method's mixture) is taken as it is. Lines are read as every stage\n"
      "reads them (data.*, the chat template, model.max_seq_len; bad lines per data.on_error).\n\n"
      "The defaults are the paper's (Table 5): finetune.epochs 3, finetune.lr 5e-4 with\n"
      "finetune.schedule cosine after ceil(finetune.warmup_ratio x steps) linear warm-up steps,\n"
      "finetune.weight_decay 0, clipping at finetune.max_grad_norm, finetune.batch_size x\n"
      "finetune.grad_accum samples per optimizer step over all ranks (under mpirun the step's samples\n"
      "are dealt to the ranks and the gradients summed by allreduce: the result does not depend on\n"
      "the rank count beyond float summation order when lora.dropout is 0). finetune.max_steps caps\n"
      "the run (and the schedule), e.g. to give every mixture the same budget. A sample's loss is the\n"
      "mean negative log-likelihood of its response tokens, a step's the mean over its samples.\n\n"
      "Resuming: a checkpoint (adapter, AdamW moments, state) is written every\n"
      "finetune.checkpoint_every steps and on SIGTERM/SIGINT (then the exit status is 75); rerunning\n"
      "the same command continues after the newest, to the same adapter as an uninterrupted run. A\n"
      "checkpoint of another config or other inputs is an error naming what differs (--restart\n"
      "discards it). A rerun that finds the adapter trained from the same config and inputs does\n"
      "nothing (--force trains again).\n\n"
      "Writes the folder finetune.out (default RUN/finetune/adapter), built as OUT.partial/ and\n"
      "renamed when complete: adapter_config.json and adapter_model.safetensors (the PEFT adapter:\n"
      "loads in HF PEFT and in `evaluate`, `embed`, `grads --adapter`), train_log.jsonl (per step:\n"
      "step, epoch, lr, loss, grad_norm, samples, tokens, tokens_seen, seconds), finetune.json\n"
      "(identity, samples, steps, tokens, first and final loss, seconds), loss_curve.svg and\n"
      "skipped.jsonl; with --keep-adapters N also snapshots/step-NNNNNNN/, the adapter at step 0 and\n"
      "every N steps (the input of `ntk-select diagnose stability`). Prints one summary line on stdout.\n\n"
      "  ntk-select finetune --config my.yaml                                   # on RUN/select/mixture.jsonl\n"
      "  ntk-select finetune --config my.yaml --set finetune.data=domain.jsonl --set finetune.out=exp/domain-only";
  c.options = [](po::options_description& o) {
    o.add_options()
        ("restart", "discard the checkpoints of an earlier, unfinished run and start afresh")
        ("force", "train even when finetune.out holds an adapter made from the same config and inputs")
        ("keep-adapters", po::value<int64_t>()->default_value(0),
         "N > 0: also keep the adapter at step 0 (the fresh init) and after every N steps and the last, as PEFT "
         "folders OUT/snapshots/step-NNNNNNN/ (for `ntk-select diagnose stability`); they do not change the adapter, "
         "but a finished folder without snapshots is trained again");
  };
  c.run = finetune_main;
  return c;
}

}  // namespace ntks::cli
