// The fine-tuning job (finetune.h): inputs checked, resumed or started,
// trained by the shared loop, and handed over as a PEFT adapter folder.

#include "ntks/train/finetune.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>

#include "ntks/config/enums.h"
#include "ntks/data/shared_samples.h"
#include "ntks/log/log.h"
#include "ntks/model/adapter.h"
#include "ntks/model/device.h"
#include "ntks/train/checkpoint.h"
#include "ntks/train/identity.h"
#include "ntks/train/trainer.h"
#include "ntks/util/error.h"
#include "ntks/util/files.h"
#include "train/resumable_run.h"
#include "train/train_logs.h"

namespace ntks::train {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kFinetuneSummary = "finetune.json";
constexpr const char* kSnapshots = "snapshots";  // FinetuneRequest::keep_adapters_every

std::string snapshot_name(int64_t step) { return fmt::format("step-{:07d}", step); }

/// The folder finetune.out names is replaced; refuse to replace one that
/// finetune did not make (a typo must not remove a model or a run folder).
void check_replaceable(const fs::path& out) {
  std::error_code ec;
  if (!fs::exists(out, ec)) return;
  const bool ours = fs::exists(out / kFinetuneSummary) || fs::exists(out / "adapter_config.json") ||
                    (fs::is_directory(out) && fs::is_empty(out, ec));
  if (!ours)
    throw InputError(fmt::format("finetune.out {} exists and is not an adapter folder (no {} or adapter_config.json): "
                                 "name a new folder",
                                 out.string(), kFinetuneSummary));
}

TrainOptions finetune_options(const config::Config& cfg) {
  TrainOptions o = TrainOptions::from_section(cfg.finetune, finetune_seed(cfg));
  o.name = "finetune";
  o.section = "finetune";
  o.max_steps = cfg.finetune.max_steps;
  return o;
}

void write_finetune_curve(const fs::path& dir) {
  detail::LossCurve c;
  c.title = "fine-tuning: response-token loss";
  c.x_key = "step";
  c.x_scale = 1;
  c.x_label = "optimizer step";
  detail::write_loss_curve((dir / "train_log.jsonl").string(), "", (dir / "loss_curve.svg").string(), c);
}

}  // namespace

FinetuneOutcome finetune(const config::Config& cfg, dist::Communicator& comm, const FinetuneRequest& request) {
  if (cfg.model.path.empty())
    throw ConfigError("model.path is not set: finetune trains a LoRA adapter on the model in that folder");
  FinetuneOutcome outcome;
  outcome.data = finetune_data(cfg);
  const fs::path out = finetune_out(cfg);
  const fs::path work = out.string() + ".partial";
  const fs::path ckpt_root = work / "checkpoints";
  outcome.out = out.string();

  // Rank 0 decides (files), every rank follows.
  std::string plan;  // "skip", "fresh" or the checkpoint folder to resume from
  std::string identity;
  if (comm.is_root()) {
    if (cfg.finetune.data.empty()) {
      check_selection_mixture(cfg.run.dir, outcome.data);
    } else if (!fs::is_regular_file(outcome.data)) {
      throw InputError(fmt::format("{}: no such file (finetune.data)", outcome.data));
    }
    identity = finetune_identity(cfg);
    if (!request.force && !request.restart &&
        detail::finished_identity((out / kFinetuneSummary).string(), (out / "adapter_model.safetensors").string()) ==
            json::parse(identity).dump() &&
        (request.keep_adapters_every == 0 || fs::is_directory(out / kSnapshots))) {
      plan = "skip";
    } else {
      check_replaceable(out);
      // An adapter of another identity, or the one --force retrains, must
      // not outlive a run stopped half-way.
      fs::remove_all(out);
      if (request.restart || request.force) fs::remove_all(work);
      const std::optional<Checkpoint> latest =
          detail::resume_point(ckpt_root.string(), identity, "fine-tuning", "finetune.data");
      plan = latest ? latest->folder : "fresh";
      if (!latest) fs::remove_all(work);  // logs of a run killed before its first checkpoint
      fs::create_directories(ckpt_root);
    }
  }
  comm.broadcast_bytes(plan, 0);
  if (plan == "skip") {
    outcome.skipped = true;
    return outcome;
  }
  const bool resuming = plan != "fresh";

  const at::Device device = model::choose_device(cfg.model.device, comm.local_rank());
  const at::ScalarType dtype = model::compute_dtype(cfg.model.dtype);
  model::require_matmul_support(dtype, device);
  model::Decoder decoder = model::Decoder::load(cfg.model.path, dtype, device);
  data::SharedRead how;
  how.tokenizer = tokenizer_path(cfg);
  how.skip_log = (work / "skipped.jsonl").string();
  how.vocab = decoder.config().vocab_size;
  how.label = "training set";
  data::ReadStats stats;
  const std::vector<data::Sample> samples = data::read_samples_shared({outcome.data}, cfg, how, comm, &stats);
  outcome.samples = static_cast<int64_t>(samples.size());

  decoder.add_lora(lora_spec(cfg.lora), static_cast<uint64_t>(finetune_seed(cfg)));
  if (resuming) model::load_adapter(decoder, plan);  // the checkpoint's weights replace the fresh ones
  auto snapshot = [&](int64_t step) {
    if (comm.is_root()) model::save_adapter(decoder, (work / kSnapshots / snapshot_name(step)).string(), cfg.model.path);
  };
  if (request.keep_adapters_every > 0 && !resuming) snapshot(0);
  ParameterSet set;
  set.tensors = decoder.lora_parameters();
  const std::vector<std::string> names = decoder.lora_parameter_names();
  NTKS_CHECK(names.size() == set.tensors.size(), "{} names for {} LoRA tensors", names.size(), set.tensors.size());
  for (const auto& t : set.tensors) outcome.parameters += t.numel();
  log::info0("model {} ({}, {} layers, {} on {}), LoRA r={} alpha={} dropout={} on {} module type(s), {} parameters; "
             "training set {}",
             cfg.model.path, decoder.config().architecture, decoder.config().num_layers,
             config::to_string(cfg.model.dtype), device.str(), cfg.lora.r, cfg.lora.alpha, cfg.lora.dropout,
             cfg.lora.targets.size(), outcome.parameters, outcome.data);

  const std::optional<ResumeState> resume = detail::resume_state(ckpt_root.string(), plan, names, set.tensors);
  const int64_t start_step = resume ? resume->steps_done : 0;
  std::optional<detail::StepLogFile> train_log;
  if (comm.is_root()) train_log.emplace((work / "train_log.jsonl").string(), start_step);
  int64_t tokens_seen = train_log ? train_log->last().value("tokens_seen", int64_t{0}) : 0;
  const TrainOptions options = finetune_options(cfg);
  const int64_t total_steps = schedule_steps(outcome.samples, options);
  double last_loss = 0;

  auto checkpoint = [&](int64_t steps_done, const AdamW& opt) {
    detail::write_checkpoint(comm, ckpt_root.string(), decoder, names, opt, {steps_done, total_steps, identity, last_loss},
                             CheckpointWeights::adapter, [&] { write_finetune_curve(work); });
  };
  TrainHooks hooks;
  hooks.on_step = [&](const StepLog& s) {
    tokens_seen += s.tokens;
    last_loss = s.loss;
    if (train_log) train_log->append(detail::step_line(s, tokens_seen));
  };
  hooks.after_step = [&](int64_t steps_done, const AdamW& opt) {
    if (detail::checkpoint_due(steps_done, cfg.finetune.checkpoint_every, total_steps)) checkpoint(steps_done, opt);
    if (request.keep_adapters_every > 0 &&
        (steps_done % request.keep_adapters_every == 0 || steps_done == total_steps))
      snapshot(steps_done);
    test_kill_point(steps_done);
  };
  hooks.on_stop = checkpoint;
  outcome.result = train(decoder, set, samples, options, comm, hooks, resume ? &*resume : nullptr);
  const TrainResult& r = outcome.result;
  outcome.first_loss = r.first_loss;

  if (comm.is_root()) {
    const std::vector<json> log = detail::read_step_log(train_log->path());
    if (!log.empty()) outcome.first_loss = log.front().value("loss", r.first_loss);
    train_log.reset();
    model::save_adapter(decoder, work.string(), cfg.model.path);
    const json summary = {{"identity", json::parse(identity)},
                          {"data", fs::absolute(outcome.data).string()},
                          {"model", cfg.model.path},
                          {"records", stats.records},
                          {"samples", outcome.samples},
                          {"skipped", stats.skipped},
                          {"dropped", stats.dropped},
                          {"truncated", stats.truncated},
                          {"sample_tokens", stats.tokens},
                          {"parameters", outcome.parameters},
                          {"seed", finetune_seed(cfg)},
                          {"epochs", cfg.finetune.epochs},
                          {"steps", r.steps},
                          {"steps_per_epoch", r.steps_per_epoch},
                          {"warmup_steps", r.warmup_steps},
                          {"step_samples", options.batch_size * options.grad_accum},
                          {"tokens_seen", tokens_seen},
                          {"first_loss", outcome.first_loss},
                          {"final_loss", r.last_loss},
                          {"ranks", comm.size()},
                          {"seconds_this_run", r.seconds},
                          {"resumed_from_step", r.resumed_from}};
    write_file_atomic((work / kFinetuneSummary).string(), summary.dump(2) + "\n");
    write_finetune_curve(work);
    fs::remove_all(ckpt_root);  // the adapter is the result; checkpoints only served resuming
    fs::remove_all(out);
    if (out.has_parent_path()) fs::create_directories(out.parent_path());
    fs::rename(work, out);
  }
  comm.barrier();
  return outcome;
}

}  // namespace ntks::train
