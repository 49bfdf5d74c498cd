#include "ntks/bench/pretrain_bench.h"

#include <algorithm>

#include "bench/random_llama.h"
#include "ntks/dist/communicator.h"
#include "ntks/train/trainer.h"

namespace ntks::bench {

PretrainBenchResult pretrain_bench(const PretrainBenchOptions& opt) {
  LlamaShape shape{opt.layers, opt.hidden, opt.intermediate, opt.heads, opt.kv_heads, opt.vocab, opt.seq_len};
  model::Decoder dec = random_llama(shape, opt.dtype, opt.device);
  dec.own_weights();
  train::ParameterSet set;
  for (const auto& [entry, t] : dec.named_weights()) {
    set.tensors.push_back(t);
    set.decay.push_back(!entry.is_norm());
  }
  // Random tokens: the cost of a step does not depend on what they say.
  at::Generator gen = at::detail::createCPUGenerator(7);
  std::vector<data::Sample> samples(static_cast<size_t>(opt.batch * (opt.reps + 1)));
  for (size_t i = 0; i < samples.size(); ++i) {
    at::Tensor ids = at::randint(opt.vocab, {opt.seq_len}, gen, at::kInt);
    samples[i].index = static_cast<int64_t>(i);
    samples[i].ids.assign(ids.data_ptr<int32_t>(), ids.data_ptr<int32_t>() + opt.seq_len);
    samples[i].response_mask.assign(static_cast<size_t>(opt.seq_len), 1);
  }
  train::TrainOptions o;
  o.name = "bench";
  o.section = "pretrain";
  o.epochs = 1;
  o.batch_size = opt.batch;
  o.grad_accum = 1;
  o.lr = 1e-4;
  o.warmup_ratio = 0;
  o.log_every = 1 << 30;
  o.progress_unit = "steps";
  std::vector<double> ends;
  train::TrainHooks hooks;
  hooks.on_step = [&](const train::StepLog& s) { ends.push_back(s.seconds); };
  auto comm = dist::create(dist::Backend::local);
  train::train(dec, set, samples, o, *comm, hooks);

  std::vector<double> steps;
  for (size_t i = 1; i < ends.size(); ++i) steps.push_back(ends[i] - ends[i - 1]);
  std::sort(steps.begin(), steps.end());
  PretrainBenchResult r;
  r.params_millions = params_millions(dec.config());
  r.step_s = steps[steps.size() / 2];
  r.tokens_per_s = static_cast<double>(opt.batch * opt.seq_len) / r.step_s;
  const double per_token =
      3.0 * (forward_flops_per_token(dec.config(), opt.seq_len) + 2.0 * static_cast<double>(opt.vocab * opt.hidden));
  r.gflops = per_token * r.tokens_per_s / 1e9;
  r.peak = gemm_peak(opt.dtype, opt.device);
  r.fraction_of_peak = r.gflops / r.peak.gflops;
  return r;
}

}  // namespace ntks::bench
