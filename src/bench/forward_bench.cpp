#include <chrono>

#include "ntks/bench/bench.h"
#include "random_llama.h"
#include "ntks/model/decoder.h"
#include "ntks/model/random_checkpoint.h"

namespace ntks::bench {

ForwardBenchResult forward_bench(const ForwardBenchOptions& opt) {
  model::Decoder dec = random_llama({opt.layers, opt.hidden, opt.intermediate, opt.heads, opt.kv_heads, opt.vocab,
                                     opt.seq_len},
                                    opt.dtype, opt.device);
  const model::HfConfig& c = dec.config();

  const int64_t H = c.hidden_size, I = c.intermediate_size, D = c.head_dim;
  const double layer_params = static_cast<double>(H * c.num_heads * D * 2 + H * c.num_kv_heads * D * 2 + 3 * H * I);
  ForwardBenchResult r;
  r.params_millions = (layer_params * c.num_layers + 2.0 * c.vocab_size * H) / 1e6;

  torch::NoGradGuard no_grad;
  at::Tensor ids = torch::randint(0, c.vocab_size, {opt.batch, opt.seq_len}, torch::kLong);
  at::Tensor mask = torch::ones({opt.batch, opt.seq_len}, torch::kLong);
  auto sync = [&] {
    if (opt.device.is_cuda()) torch::cuda::synchronize();
  };
  dec.hidden_states(ids, mask);  // warm-up
  sync();
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < opt.reps; ++i) dec.hidden_states(ids, mask);
  sync();
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  const double tokens = static_cast<double>(opt.batch * opt.seq_len) * opt.reps;
  // Matmul FLOPs per token: projections 2 * layer_params, attention scores
  // and weighted sum 2 * 2 * seq_len * heads * head_dim per layer (the full
  // T x T product the explicit form computes).
  const double per_token = c.num_layers * (2 * layer_params + 4.0 * opt.seq_len * c.num_heads * D);
  r.tokens_per_s = tokens / s;
  r.gflops = per_token * tokens / s / 1e9;
  r.peak = gemm_peak(opt.dtype, opt.device);
  r.fraction_of_peak = r.gflops / r.peak.gflops;
  return r;
}

}  // namespace ntks::bench
