#include "ntks/train/trainer.h"

#include <chrono>
#include <cmath>

#include "ntks/features/batching.h"
#include "ntks/log/log.h"
#include "ntks/log/progress.h"
#include "ntks/train/clip.h"
#include "ntks/train/loss.h"
#include "ntks/train/plan.h"
#include "ntks/train/schedule.h"
#include "ntks/util/error.h"

namespace ntks::train {

TrainOptions TrainOptions::from_config(const config::Config& cfg) {
  TrainOptions o;
  o.epochs = cfg.warmup.epochs;
  o.lr = cfg.warmup.lr;
  o.schedule = cfg.warmup.schedule;
  o.warmup_ratio = cfg.warmup.warmup_ratio;
  o.max_grad_norm = cfg.warmup.max_grad_norm;
  o.batch_size = cfg.warmup.batch_size;
  o.grad_accum = cfg.warmup.grad_accum;
  o.seed = static_cast<uint64_t>(cfg.run.seed);
  o.adamw.weight_decay = cfg.warmup.weight_decay;
  return o;
}

namespace {

void check_options(const TrainOptions& o) {
  if (o.epochs < 1) throw ConfigError(fmt::format("warmup.epochs is {}: expected at least 1", o.epochs));
  if (o.batch_size < 1) throw ConfigError(fmt::format("warmup.batch_size is {}: expected at least 1", o.batch_size));
  if (o.grad_accum < 1) throw ConfigError(fmt::format("warmup.grad_accum is {}: expected at least 1", o.grad_accum));
  if (!(o.lr >= 0)) throw ConfigError(fmt::format("warmup.lr is {}: expected a value >= 0", o.lr));
  if (!(o.warmup_ratio >= 0 && o.warmup_ratio <= 1))
    throw ConfigError(fmt::format("warmup.warmup_ratio is {}: expected a value in [0, 1]", o.warmup_ratio));
  if (!(o.max_grad_norm >= 0))
    throw ConfigError(fmt::format("warmup.max_grad_norm is {}: expected a value >= 0 (0 disables)", o.max_grad_norm));
  if (!(o.adamw.weight_decay >= 0))
    throw ConfigError(fmt::format("warmup.weight_decay is {}: expected a value >= 0", o.adamw.weight_decay));
}

/// Seed of one micro-batch's dropout masks.
uint64_t dropout_seed(uint64_t seed, int64_t step, int rank, size_t micro) {
  uint64_t s = mix_seed(seed ^ 0xD50F0D0Full);
  s = mix_seed(s ^ static_cast<uint64_t>(step));
  s = mix_seed(s ^ static_cast<uint64_t>(rank));
  return mix_seed(s ^ static_cast<uint64_t>(micro));
}

}  // namespace

TrainResult train_lora(model::Decoder& decoder, const std::vector<data::Sample>& samples, const TrainOptions& options,
                       dist::Communicator& comm, const std::function<void(const StepLog&)>& on_step) {
  check_options(options);
  if (samples.empty()) throw InputError("warm-up: the domain set has no samples");
  std::vector<at::Tensor> params = decoder.lora_parameters();
  NTKS_CHECK(!params.empty(), "warm-up needs a LoRA adapter on the model");
  std::vector<int64_t> numels;
  int64_t total_numel = 0;
  for (auto& p : params) {
    p.requires_grad_(true);
    numels.push_back(p.numel());
    total_numel += p.numel();
  }
  const double dropout = decoder.lora_spec().dropout;
  const model::ForwardContext fctx{/*training=*/dropout > 0, nullptr};

  const auto n = static_cast<int64_t>(samples.size());
  const int64_t step_samples = options.batch_size * options.grad_accum;
  TrainResult result;
  result.steps_per_epoch = steps_per_epoch(n, step_samples);
  const int64_t total_steps = options.epochs * result.steps_per_epoch;
  result.warmup_steps = warmup_steps(options.warmup_ratio, total_steps);
  std::vector<int64_t> lengths;
  for (const auto& s : samples) lengths.push_back(static_cast<int64_t>(s.ids.size()));
  log::info0("warm-up: {} samples, {} epoch(s) x {} step(s) of up to {} samples ({} x {} accumulation, over {} rank(s)),"
             " {} warm-up step(s), {} LoRA parameters",
             n, options.epochs, result.steps_per_epoch, step_samples, options.batch_size, options.grad_accum,
             comm.size(), result.warmup_steps, total_numel);

  AdamW optimizer(params, options.adamw);
  const int64_t log_every = options.log_every > 0 ? options.log_every : std::max<int64_t>(1, total_steps / 20);
  log::ProgressOptions popt;
  popt.unit = "steps";
  log::Progress progress("warmup", total_steps, popt);
  const auto start = std::chrono::steady_clock::now();
  const auto fopts = torch::TensorOptions().dtype(at::kFloat).device(decoder.device());

  int64_t step = 0;
  for (int64_t epoch = 0; epoch < options.epochs; ++epoch) {
    const std::vector<size_t> order = epoch_order(samples.size(), options.seed, epoch);
    for (int64_t s = 0; s < result.steps_per_epoch; ++s, ++step) {
      const auto begin = order.begin() + s * step_samples;
      const std::vector<size_t> step_set(begin, begin + std::min(step_samples, n - s * step_samples));
      const auto micro = rank_micro_batches(step_set, lengths, comm.rank(), comm.size(), options.batch_size);

      for (auto& p : params) p.mutable_grad() = at::Tensor();
      double local_loss = 0;
      for (size_t m = 0; m < micro.size(); ++m) {
        if (fctx.training) torch::manual_seed(dropout_seed(options.seed, step, comm.rank(), m));
        std::vector<const data::Sample*> ptrs;
        for (size_t i : micro[m]) ptrs.push_back(&samples[i]);
        const features::Batch batch = features::make_batch(ptrs, decoder.device());
        const at::Tensor per_sample = response_nll(decoder, decoder.hidden_states(batch.ids, batch.mask, fctx), batch);
        const at::Tensor loss = per_sample.sum();
        loss.backward();
        local_loss += loss.item<double>();
      }

      // One allreduce: every gradient flattened, then this rank's loss sum.
      std::vector<at::Tensor> parts;
      for (size_t i = 0; i < params.size(); ++i) {
        const at::Tensor& g = params[i].grad();
        parts.push_back(g.defined() ? g.reshape({-1}).to(at::kFloat) : torch::zeros({numels[i]}, fopts));
      }
      parts.push_back(torch::full({1}, local_loss, fopts));
      at::Tensor flat = torch::cat(parts);
      comm.allreduce(flat, dist::ReduceOp::sum);
      const auto count = static_cast<double>(step_set.size());
      const double loss = flat[total_numel].item<double>() / count;
      at::Tensor grad = flat.narrow(0, 0, total_numel);
      grad.div_(count);
      const double norm = clip_by_global_norm(grad, options.max_grad_norm);
      const double lr = learning_rate(options.schedule, options.lr, step, total_steps, result.warmup_steps);
      optimizer.step(grad.split_with_sizes(numels), lr);

      StepLog entry;
      entry.step = step + 1;
      entry.epoch = static_cast<double>(step + 1) / static_cast<double>(result.steps_per_epoch);
      entry.lr = lr;
      entry.loss = loss;
      entry.grad_norm = norm;
      entry.samples = static_cast<int64_t>(step_set.size());
      if (step == 0) result.first_loss = loss;
      result.last_loss = loss;
      if (!std::isfinite(loss))
        throw InputError(fmt::format("warm-up step {}: the loss is {} (lower warmup.lr, or use model.dtype fp32/bf16)",
                                     entry.step, loss));
      progress.advance(1);
      if (entry.step % log_every == 0 || entry.step == total_steps)
        log::info0("step {}/{} epoch {:.2f} loss {:.4f} lr {:.3g} grad_norm {:.4f}", entry.step, total_steps,
                   entry.epoch, entry.loss, entry.lr, entry.grad_norm);
      if (on_step) on_step(entry);
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
  return result;
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
