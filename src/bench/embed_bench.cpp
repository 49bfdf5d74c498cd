// Throughput of the embed stage's forward: features::embed_samples on
// samples of random lengths, as a fraction of the GEMM peak.

#include <torch/torch.h>

#include <random>

#include "ntks/bench/bench.h"
#include "ntks/features/batching.h"
#include "ntks/features/embed.h"
#include "ntks/util/error.h"
#include "random_llama.h"
#include "timing.h"

namespace ntks::bench {

EmbedBenchResult embed_bench(const EmbedBenchOptions& opt) {
  if (opt.samples < 1 || opt.min_len < 1 || opt.max_len < opt.min_len || opt.batch_tokens < 1)
    throw UsageError(fmt::format("embed bench: {} samples of {}..{} tokens, budget {}: expected samples >= 1, "
                                 "1 <= min <= max, budget >= 1",
                                 opt.samples, opt.min_len, opt.max_len, opt.batch_tokens));
  model::Decoder dec = random_llama({opt.layers, opt.hidden, opt.intermediate, opt.heads, opt.kv_heads, opt.vocab,
                                     opt.max_len},
                                    opt.dtype, opt.device);
  const model::HfConfig& c = dec.config();
  EmbedBenchResult r;
  r.params_millions = params_millions(c);

  std::mt19937_64 rng(1);
  std::uniform_int_distribution<int64_t> length(opt.min_len, opt.max_len);
  std::uniform_int_distribution<int32_t> token(0, static_cast<int32_t>(c.vocab_size - 1));
  std::vector<data::Sample> samples(static_cast<size_t>(opt.samples));
  std::vector<int64_t> lengths;
  double useful_flops = 0, real_tokens = 0;
  for (data::Sample& s : samples) {
    const int64_t n = length(rng);
    for (int64_t t = 0; t < n; ++t) s.ids.push_back(token(rng));
    s.response_mask.assign(s.ids.size(), 1);
    lengths.push_back(n);
    useful_flops += static_cast<double>(n) * forward_flops_per_token(c, n);
    real_tokens += static_cast<double>(n);
  }
  // What the batches run: every row at its batch's longest length.
  double executed_flops = 0, padded_tokens = 0;
  const auto batches = features::batches_by_tokens(lengths, opt.batch_tokens, 0, features::kMaxPadding);
  for (const auto& rows : batches) {
    int64_t longest = 0;
    for (size_t p : rows) longest = std::max(longest, lengths[p]);
    const double tokens = static_cast<double>(rows.size() * static_cast<size_t>(longest));
    executed_flops += tokens * forward_flops_per_token(c, longest);
    padded_tokens += tokens;
  }
  r.batches = static_cast<int64_t>(batches.size());
  r.seconds = fastest(opt.reps, opt.device, [&] { features::embed_samples(dec, samples, opt.batch_tokens); });
  if (!opt.profile.empty())
    profile_once(opt.profile, [&] { features::embed_samples(dec, samples, opt.batch_tokens); });
  r.samples_per_s = static_cast<double>(opt.samples) / r.seconds;
  r.tokens_per_s = real_tokens / r.seconds;
  r.padding = 1 - real_tokens / padded_tokens;
  r.gflops = useful_flops / r.seconds / 1e9;
  r.executed_gflops = executed_flops / r.seconds / 1e9;
  r.peak = gemm_peak(opt.dtype, opt.device, 0.5);
  r.fraction_of_peak = r.gflops / r.peak.gflops;
  return r;
}

}  // namespace ntks::bench
