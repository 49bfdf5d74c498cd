// `ntk-select warmup` (DESIGN §2 step 1): LoRA training on the domain set,
// data parallel over the ranks; writes the PEFT adapter, the per-step log and
// the skipped lines to RUN/warmup/.

#include <torch/torch.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "command.h"
#include "inputs.h"
#include "ntks/config/enums.h"
#include "ntks/data/shared_samples.h"
#include "ntks/log/log.h"
#include "ntks/model/adapter.h"
#include "ntks/model/decoder.h"
#include "ntks/model/device.h"
#include "ntks/select/baseline_scores.h"
#include "ntks/select/topk.h"
#include "ntks/train/checkpoint.h"
#include "ntks/train/trainer.h"
#include "ntks/util/error.h"
#include "ntks/util/files.h"

namespace ntks::cli {
namespace {

namespace fs = std::filesystem;

/// Rank 0 reads the domain set (skip log in `folder`); every rank gets the samples.
std::vector<data::Sample> read_domain(Context& ctx, const std::string& folder, int64_t vocab) {
  data::SharedRead how;
  how.tokenizer = tokenizer_file(ctx.cfg);
  how.skip_log = (fs::path(folder) / "skipped.jsonl").string();
  how.vocab = vocab;
  how.label = "domain";
  return data::read_samples_shared(domain_files(ctx.cfg), ctx.cfg, how, ctx.comm);
}

/// select.method less: the warm-up trains on less.warmup_samples candidates
/// drawn uniformly with run.seed (the random method's keys), in record order.
std::vector<data::Sample> read_less_sample(Context& ctx, const std::string& folder, int64_t vocab) {
  const config::Config& cfg = ctx.cfg;
  data::IndexOptions io;
  io.id_field = cfg.data.fields.id;
  const data::CorpusIndex index = data::CorpusIndex::open_shared(candidate_files(cfg), io, ctx.comm);
  int64_t skipped = 0;
  const select::ScoreTable keys =
      select::random_scores(index, cfg.data, static_cast<uint64_t>(cfg.run.seed), ctx.comm, &skipped);
  std::string bytes;
  if (ctx.comm.is_root()) {
    int64_t k = cfg.less.warmup_samples;
    if (k > static_cast<int64_t>(keys.records.size())) {
      log::warn("less.warmup_samples {} is more than the {} candidates: the warm-up trains on all of them", k,
                keys.records.size());
      k = static_cast<int64_t>(keys.records.size());
    }
    std::vector<int64_t> records;
    for (size_t i : select::top_m(keys.scores, keys.records, k)) records.push_back(keys.records[i]);
    std::sort(records.begin(), records.end());
    bytes.assign(reinterpret_cast<const char*>(records.data()), records.size() * sizeof(int64_t));
  }
  ctx.comm.broadcast_bytes(bytes, 0);
  data::SharedRead how;
  how.tokenizer = tokenizer_file(cfg);
  how.skip_log = (fs::path(folder) / "skipped.jsonl").string();
  how.vocab = vocab;
  how.label = "LESS warm-up sample of the candidates";
  how.only.resize(bytes.size() / sizeof(int64_t));
  std::memcpy(how.only.data(), bytes.data(), bytes.size());
  log::info0("less: the warm-up trains on {} of {} candidates drawn with run.seed", how.only.size(), index.size());
  return data::read_samples_shared(candidate_files(cfg), cfg, how, ctx.comm);
}

int warmup_main(Context& ctx) {
  const config::Config& cfg = ctx.cfg;
  if (cfg.model.path.empty()) throw ConfigError("model.path is not set: warmup needs the base model folder");
  const fs::path run_dir(cfg.run.dir);
  const fs::path final_dir = run_dir / "warmup";
  // Everything is written here first and renamed at the end, so a folder
  // named warmup/ is always a finished one.
  const fs::path work_dir = run_dir / "warmup.partial";
  if (ctx.comm.is_root()) {
    fs::remove_all(work_dir);
    fs::create_directories(work_dir);
  }

  const at::Device device = model::choose_device(cfg.model.device, ctx.comm.local_rank());
  const at::ScalarType dtype = model::compute_dtype(cfg.model.dtype);
  model::require_matmul_support(dtype, device);
  model::Decoder decoder = model::Decoder::load(cfg.model.path, dtype, device);
  const bool less = cfg.select.method == config::SelectMethod::less;
  const std::vector<data::Sample> samples = less ? read_less_sample(ctx, work_dir.string(), decoder.config().vocab_size)
                                                 : read_domain(ctx, work_dir.string(), decoder.config().vocab_size);
  decoder.add_lora(train::lora_spec(cfg.lora), static_cast<uint64_t>(cfg.run.seed));
  log::info0("model {} ({}, {} layers, {} on {}), LoRA r={} alpha={} dropout={} on {} module type(s)",
             cfg.model.path, decoder.config().architecture, decoder.config().num_layers, config::to_string(cfg.model.dtype),
             device.str(), cfg.lora.r, cfg.lora.alpha, cfg.lora.dropout, cfg.lora.targets.size());

  std::ofstream train_log;
  if (ctx.comm.is_root()) {
    const fs::path p = work_dir / "train_log.jsonl";
    train_log.open(p, std::ios::binary | std::ios::trunc);
    if (!train_log) throw InputError(fmt::format("{}: cannot be written", p.string()));
  }
  const train::TrainOptions options = train::TrainOptions::from_config(cfg);
  const train::TrainResult result = train::train_lora(decoder, samples, options, ctx.comm, [&](const train::StepLog& s) {
    if (!train_log.is_open()) return;
    const nlohmann::json j = {{"step", s.step}, {"epoch", s.epoch},         {"lr", s.lr},
                              {"loss", s.loss}, {"grad_norm", s.grad_norm}, {"samples", s.samples}};
    train_log << j.dump() << '\n';
    train_log.flush();
  });

  if (ctx.comm.is_root()) {
    train_log.close();
    if (!train_log) throw InputError(fmt::format("{}: write failed", (work_dir / "train_log.jsonl").string()));
    model::save_adapter(decoder, work_dir.string(), cfg.model.path);
    // AdamW's state after the last step: LESS turns candidate gradients into
    // Adam directions with it (features/project.h).
    train::write_moments(work_dir.string(), decoder.lora_parameter_names(), result.first_moments,
                         result.second_moments, result.steps);
    // What the adapter was trained on: LESS's gradients need its own warm-up.
    write_file_atomic((work_dir / "warmup.json").string(),
                      nlohmann::json{{"trained_on", less ? "candidates" : "domain"},
                                     {"samples", samples.size()},
                                     {"steps", result.steps}}
                              .dump(2) +
                          "\n");
    fs::remove_all(final_dir);
    fs::rename(work_dir, final_dir);
    std::cout << fmt::format("warmup: {} samples, {} epoch(s), {} step(s) on {} rank(s), loss {:.4f} -> {:.4f}, "
                             "{:.1f}s; adapter in {}",
                             samples.size(), options.epochs, result.steps, ctx.comm.size(), result.first_loss,
                             result.last_loss, result.seconds, final_dir.string())
              << std::endl;
  }
  ctx.comm.barrier();
  return 0;
}

}  // namespace

Command warmup_command() {
  Command c;
  c.name = "warmup";
  c.computes = true;
  c.summary = "LoRA-train the model on the domain set (step 1); writes the PEFT adapter to RUN/warmup/";
  c.description =
      "Trains a fresh LoRA adapter (lora.r, lora.alpha, lora.dropout, lora.targets; initialised\n"
      "from run.seed) on the domain set (data.domain; with select.method less, on less.warmup_samples\n"
      "candidates drawn with run.seed, as LESS does) for warmup.epochs epochs: AdamW (warmup.lr,\n"
      "warmup.weight_decay), warmup.schedule after a linear warm-up of ceil(warmup.warmup_ratio x\n"
      "steps) steps, gradient clipping at warmup.max_grad_norm. The loss of a sample is the mean\n"
      "negative log-likelihood of its response tokens; a step's loss is the mean over its samples.\n"
      "One optimizer step uses warmup.batch_size x warmup.grad_accum samples in total, however\n"
      "many ranks run (under mpirun the step's samples are dealt to the ranks and gradients are\n"
      "summed by allreduce, so every rank holds the same weights); the last step of an epoch takes\n"
      "the samples left over. The epoch order is shuffled with run.seed. With lora.dropout > 0 the\n"
      "masks are reproducible for a given seed and rank count but differ between rank counts.\n\n"
      "Writes RUN/warmup/ (RUN = run.dir), built as RUN/warmup.partial/ and renamed when complete:\n"
      "  adapter_config.json, adapter_model.safetensors   the PEFT adapter (loads in HF PEFT)\n"
      "  optimizer.safetensors  AdamW's moments after the last step (LESS preconditions with them)\n"
      "  warmup.json       what it trained on (domain, or candidates for LESS), samples, steps\n"
      "  train_log.jsonl   one line per step: step, epoch, lr, loss, grad_norm, samples\n"
      "  skipped.jsonl     domain lines that did not become samples (data.on_error: skip)\n"
      "and prints a one-line summary on stdout.";
  c.run = warmup_main;
  return c;
}

}  // namespace ntks::cli
