#include "ntks/train/trainer.h"

#include <chrono>
#include <cmath>
#include <optional>

#include "ntks/features/batching.h"
#include "ntks/log/log.h"
#include "ntks/log/progress.h"
#include "ntks/train/clip.h"
#include "ntks/train/exact_sum.h"
#include "ntks/train/loss.h"
#include "ntks/train/plan.h"
#include "ntks/train/schedule.h"
#include "ntks/util/error.h"
#include "ntks/util/stop.h"

namespace ntks::train {

TrainOptions TrainOptions::from_config(const config::Config& cfg) { return from_section(cfg.warmup, cfg.run.seed); }

namespace {

void check_options(const TrainOptions& o) {
  const std::string& k = o.section;
  if (o.epochs < 1) throw ConfigError(fmt::format("{}.epochs is {}: expected at least 1", k, o.epochs));
  if (o.max_steps < 0) throw ConfigError(fmt::format("{}.max_steps is {}: expected 0 (all epochs) or more", k, o.max_steps));
  if (o.batch_size < 1) throw ConfigError(fmt::format("{}.batch_size is {}: expected at least 1", k, o.batch_size));
  if (o.grad_accum < 1) throw ConfigError(fmt::format("{}.grad_accum is {}: expected at least 1", k, o.grad_accum));
  if (!(o.lr >= 0)) throw ConfigError(fmt::format("{}.lr is {}: expected a value >= 0", k, o.lr));
  if (!(o.warmup_ratio >= 0 && o.warmup_ratio <= 1))
    throw ConfigError(fmt::format("{}.warmup_ratio is {}: expected a value in [0, 1]", k, o.warmup_ratio));
  if (!(o.max_grad_norm >= 0))
    throw ConfigError(fmt::format("{}.max_grad_norm is {}: expected a value >= 0 (0 disables)", k, o.max_grad_norm));
  if (!(o.adamw.weight_decay >= 0))
    throw ConfigError(fmt::format("{}.weight_decay is {}: expected a value >= 0", k, o.adamw.weight_decay));
}

/// Seed of one micro-batch's dropout masks: keyed by the step and the
/// micro-batch's place in it, never by the rank that computes it.
uint64_t dropout_seed(uint64_t seed, int64_t step, size_t micro) {
  uint64_t s = mix_seed(seed ^ 0xD50F0D0Full);
  s = mix_seed(s ^ static_cast<uint64_t>(step));
  return mix_seed(s ^ static_cast<uint64_t>(micro));
}

}  // namespace

int64_t schedule_steps(int64_t samples, const TrainOptions& o) {
  const int64_t steps = o.epochs * steps_per_epoch(samples, o.batch_size * o.grad_accum);
  return o.max_steps > 0 ? std::min(steps, o.max_steps) : steps;
}

TrainResult train(model::Decoder& decoder, const ParameterSet& set, const std::vector<data::Sample>& samples,
                  const TrainOptions& options, dist::Communicator& comm, const TrainHooks& hooks,
                  const ResumeState* resume) {
  check_options(options);
  if (samples.empty()) throw InputError(fmt::format("{}: there are no samples to train on", options.name));
  std::vector<at::Tensor> params = set.tensors;
  NTKS_CHECK(!params.empty(), "{} has no parameters to train", options.name);
  std::vector<int64_t> numels;
  int64_t total_numel = 0;
  for (auto& p : params) {
    p.requires_grad_(true);
    numels.push_back(p.numel());
    total_numel += p.numel();
  }
  const double dropout = decoder.has_lora() ? decoder.lora_spec().dropout : 0.0;
  const model::ForwardContext fctx{/*training=*/dropout > 0, nullptr};

  const auto n = static_cast<int64_t>(samples.size());
  const int64_t step_samples = options.batch_size * options.grad_accum;
  TrainResult result;
  result.steps_per_epoch = steps_per_epoch(n, step_samples);
  result.total_steps = schedule_steps(n, options);
  const int64_t total_steps = result.total_steps;
  result.warmup_steps = warmup_steps(options.warmup_ratio, total_steps);
  std::vector<int64_t> lengths;
  for (const auto& s : samples) lengths.push_back(static_cast<int64_t>(s.ids.size()));
  log::info0("{}: {} samples, {} step(s) ({} epoch(s) x {} step(s) of up to {} samples: {} x {} accumulation, over {} "
             "rank(s)), {} warm-up step(s), {} parameters",
             options.name, n, total_steps, options.epochs, result.steps_per_epoch, step_samples, options.batch_size,
             options.grad_accum, comm.size(), result.warmup_steps, total_numel);

  AdamW optimizer(params, options.adamw, set.decay);
  int64_t step = 0;
  if (resume != nullptr) {
    NTKS_CHECK(resume->steps_done >= 0 && resume->steps_done <= total_steps, "resume at step {} of {}",
               resume->steps_done, total_steps);
    optimizer.restore(resume->steps_done, resume->m, resume->v);
    step = resume->steps_done;
    result.resumed_from = step;
    if (step > 0) log::info0("{}: continuing after step {} of {}", options.name, step, total_steps);
  }
  // Tokens of a step are known on every rank (the lengths), so the progress
  // line can count them without a collective.
  auto step_tokens = [&](const std::vector<size_t>& step_set) {
    int64_t t = 0;
    for (size_t i : step_set) t += lengths[i];
    return t;
  };
  // The samples of step s of an epoch whose shuffled order is `order`.
  auto step_set_of = [&](const std::vector<size_t>& order, int64_t s) {
    const auto begin = order.begin() + s * step_samples;
    return std::vector<size_t>(begin, begin + std::min(step_samples, n - s * step_samples));
  };
  const bool by_tokens = options.progress_unit == "tokens";
  int64_t progress_total = total_steps - step;
  if (by_tokens) {
    progress_total = 0;
    for (int64_t e = step / result.steps_per_epoch; e * result.steps_per_epoch < total_steps; ++e) {
      const std::vector<size_t> order = epoch_order(samples.size(), options.seed, e);
      for (int64_t k = std::max(step, e * result.steps_per_epoch);
           k < std::min(total_steps, (e + 1) * result.steps_per_epoch); ++k)
        progress_total += step_tokens(step_set_of(order, k - e * result.steps_per_epoch));
    }
  }
  const int64_t log_every = options.log_every > 0 ? options.log_every : std::max<int64_t>(1, total_steps / 20);
  log::ProgressOptions popt;
  popt.unit = options.progress_unit;
  log::Progress progress(options.section, progress_total, popt);
  const auto start = std::chrono::steady_clock::now();
  const auto fopts = torch::TensorOptions().dtype(at::kFloat).device(decoder.device());
  std::optional<util::StopScope> stoppable;
  if (hooks.on_stop) stoppable.emplace();

  std::vector<size_t> order;
  int64_t order_epoch = -1;
  bool first = true;
  for (; step < total_steps; ++step) {
    const int64_t epoch = step / result.steps_per_epoch, s = step % result.steps_per_epoch;
    if (epoch != order_epoch) {
      order = epoch_order(samples.size(), options.seed, epoch);
      order_epoch = epoch;
    }
    const std::vector<size_t> step_set = step_set_of(order, s);
    // The step's micro-batches are the same on any rank count; each rank
    // computes its share and keeps every micro-batch's gradient (and loss
    // sum) apart, so that exact_sum() adds them with the same bits whatever
    // the split: the same weights on 1, 2 or 3 ranks.
    const auto micro = step_micro_batches(step_set, lengths, options.batch_size);
    std::vector<at::Tensor> vectors;
    for (size_t m : rank_share(micro, lengths, comm.rank(), comm.size())) {
      if (fctx.training) torch::manual_seed(dropout_seed(options.seed, step, m));
      std::vector<const data::Sample*> ptrs;
      for (size_t i : micro[m]) ptrs.push_back(&samples[i]);
      const features::Batch batch = features::make_batch(ptrs, decoder.device());
      const at::Tensor per_sample = response_nll(decoder, decoder.hidden_states(batch.ids, batch.mask, fctx), batch);
      const at::Tensor loss = per_sample.sum();
      loss.backward();
      std::vector<at::Tensor> parts;
      for (size_t i = 0; i < params.size(); ++i) {
        const at::Tensor& g = params[i].grad();
        parts.push_back(g.defined() ? g.reshape({-1}).to(at::kFloat) : torch::zeros({numels[i]}, fopts));
        params[i].mutable_grad() = at::Tensor();
      }
      parts.push_back(loss.detach().reshape({1}).to(at::kFloat));
      vectors.push_back(torch::cat(parts));
    }

    // Two allreduces: the largest magnitudes (with the stop request: all
    // ranks stop after this step), then the fixed-point sums.
    const bool stop_here = hooks.on_stop && util::poll_stop();
    const ExactSumResult reduced = exact_sum(vectors, {total_numel, 1}, static_cast<int64_t>(micro.size()), stop_here,
                                             fopts, comm);
    vectors.clear();
    const auto count = static_cast<double>(step_set.size());
    const double loss = reduced.sum[total_numel].item<double>() / count;
    const bool stop = reduced.flag;
    at::Tensor grad = (reduced.sum.narrow(0, 0, total_numel) / count).to(at::kFloat);
    const double norm = clip_by_global_norm(grad, options.max_grad_norm);
    const double lr = learning_rate(options.schedule, options.lr, step, total_steps, result.warmup_steps);
    if (!std::isfinite(loss))
      throw InputError(fmt::format("{} step {}: the loss is {} (lower {}.lr, or use model.dtype fp32/bf16)", options.name,
                                   step + 1, loss, options.section));
    optimizer.step(grad.split_with_sizes(numels), lr);

    StepLog entry;
    entry.step = step + 1;
    entry.epoch = static_cast<double>(step + 1) / static_cast<double>(result.steps_per_epoch);
    entry.lr = lr;
    entry.loss = loss;
    entry.grad_norm = norm;
    entry.samples = static_cast<int64_t>(step_set.size());
    entry.tokens = step_tokens(step_set);
    entry.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (first) result.first_loss = loss;
    first = false;
    result.last_loss = loss;
    result.tokens += entry.tokens;
    progress.advance(by_tokens ? entry.tokens : 1);
    if (entry.step % log_every == 0 || entry.step == total_steps)
      log::info0("step {}/{} epoch {:.2f} loss {:.4f} lr {:.3g} grad_norm {:.4f} {:.0f} tokens/s", entry.step,
                 total_steps, entry.epoch, entry.loss, entry.lr, entry.grad_norm,
                 static_cast<double>(result.tokens) / std::max(entry.seconds, 1e-9));
    if (hooks.on_step) hooks.on_step(entry);
    if (hooks.after_step) hooks.after_step(entry.step, optimizer);
    if (stop && entry.step < total_steps) {
      hooks.on_stop(entry.step, optimizer);
      throw util::StopRequested(fmt::format("{} stopped by a signal after step {} of {} (checkpoint written); exit "
                                            "status {}: run the same command again to continue from there",
                                            options.name, entry.step, total_steps, util::kStopExitCode));
    }
  }
  progress.finish();
  for (auto& p : params) {
    p.mutable_grad() = at::Tensor();
    p.requires_grad_(false);
  }
  check_identical_across_ranks(params, comm);
  result.steps = step;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.first_moments = optimizer.first_moments();
  result.second_moments = optimizer.second_moments();
  return result;
}

TrainResult train_lora(model::Decoder& decoder, const std::vector<data::Sample>& samples, const TrainOptions& options,
                       dist::Communicator& comm, const std::function<void(const StepLog&)>& on_step) {
  ParameterSet set;
  set.tensors = decoder.lora_parameters();
  NTKS_CHECK(!set.tensors.empty(), "warm-up needs a LoRA adapter on the model");
  TrainHooks hooks;
  hooks.on_step = on_step;
  return train(decoder, set, samples, options, comm, hooks);
}

model::LoraSpec lora_spec(const config::LoraConfig& c) {
  model::LoraSpec spec;
  spec.r = c.r;
  spec.alpha = c.alpha;
  spec.dropout = c.dropout;
  spec.targets = c.targets;
  return spec;
}

void check_identical_across_ranks(const std::vector<at::Tensor>& tensors, dist::Communicator& comm) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a over the bytes
  for (const auto& t : tensors) {
    const at::Tensor c = t.detach().to(at::kCPU).contiguous();
    const auto* bytes = static_cast<const unsigned char*>(c.data_ptr());
    for (size_t i = 0; i < c.nbytes(); ++i) h = (h ^ bytes[i]) * 0x100000001b3ull;
  }
  // Max of the hash halves and of their negations: equal everywhere iff max == -max(-x).
  const auto hi = static_cast<int64_t>(h >> 32), lo = static_cast<int64_t>(h & 0xffffffffull);
  at::Tensor v = torch::tensor({hi, lo, -hi, -lo}, at::kLong);
  comm.allreduce(v, dist::ReduceOp::max);
  if (v[0].item<int64_t>() != -v[2].item<int64_t>() || v[1].item<int64_t>() != -v[3].item<int64_t>())
    throw DistError(fmt::format("rank {}: the LoRA weights differ between ranks after training", comm.rank()));
}

}  // namespace ntks::train
