#include <chrono>

#include "ntks/bench/bench.h"
#include "random_llama.h"
#include "timing.h"
#include "ntks/model/decoder.h"
#include "ntks/model/random_checkpoint.h"

namespace ntks::bench {

ForwardBenchResult forward_bench(const ForwardBenchOptions& opt) {
  model::Decoder dec = random_llama({opt.layers, opt.hidden, opt.intermediate, opt.heads, opt.kv_heads, opt.vocab,
                                     opt.seq_len},
                                    opt.dtype, opt.device);
  const model::HfConfig& c = dec.config();
  ForwardBenchResult r;
  r.params_millions = params_millions(c);

  torch::NoGradGuard no_grad;
  at::Tensor ids = torch::randint(0, c.vocab_size, {opt.batch, opt.seq_len}, torch::kLong);
  at::Tensor mask = torch::ones({opt.batch, opt.seq_len}, torch::kLong);
  dec.hidden_states(ids, mask);  // warm-up
  sync_device(opt.device);
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < opt.reps; ++i) dec.hidden_states(ids, mask);
  sync_device(opt.device);
  const double s = seconds_since(t0);

  const double tokens = static_cast<double>(opt.batch * opt.seq_len) * opt.reps;
  const double per_token = forward_flops_per_token(c, opt.seq_len);
  r.tokens_per_s = tokens / s;
  r.gflops = per_token * tokens / s / 1e9;
  r.peak = gemm_peak(opt.dtype, opt.device);
  r.fraction_of_peak = r.gflops / r.peak.gflops;
  return r;
}

}  // namespace ntks::bench
