#include "ntks/train/evaluate.h"

#include <cmath>

#include "ntks/features/batching.h"
#include "ntks/train/loss.h"
#include "ntks/util/error.h"

namespace ntks::train {

HeldOutLoss held_out_loss(const model::Decoder& decoder, const std::vector<data::Sample>& samples, int64_t batch_size,
                          dist::Communicator& comm) {
  NTKS_CHECK(batch_size > 0, "batch size {}", batch_size);
  torch::NoGradGuard no_grad;
  const auto n = static_cast<int64_t>(samples.size());
  const int64_t begin = n * comm.rank() / comm.size(), end = n * (comm.rank() + 1) / comm.size();
  // Per sample: loss = (sum of target NLLs) / targets, so the token-weighted
  // sum is loss x targets; both sums travel in one allreduce.
  double nll = 0, targets = 0;
  for (int64_t i = begin; i < end; i += batch_size) {
    std::vector<const data::Sample*> ptrs;
    for (int64_t k = i; k < std::min(end, i + batch_size); ++k) ptrs.push_back(&samples[static_cast<size_t>(k)]);
    const features::Batch batch = features::make_batch(ptrs, decoder.device());
    const at::Tensor loss = response_nll(decoder, decoder.hidden_states(batch.ids, batch.mask), batch);
    const int64_t T = batch.ids.size(1);
    const at::Tensor count = T < 2 ? torch::zeros({batch.ids.size(0)}) : batch.response.narrow(1, 1, T - 1).sum(1).to(at::kCPU);
    nll += (loss.to(at::kCPU).to(at::kDouble) * count.to(at::kDouble)).sum().item<double>();
    targets += count.sum().item<double>();
  }
  at::Tensor sums = torch::tensor({nll, targets}, at::kDouble);
  comm.allreduce(sums, dist::ReduceOp::sum);
  HeldOutLoss out;
  out.tokens = static_cast<int64_t>(sums[1].item<double>());
  out.samples = n;
  out.loss = out.tokens > 0 ? sums[0].item<double>() / sums[1].item<double>() : 0;
  out.perplexity = std::exp(out.loss);
  return out;
}

}  // namespace ntks::train
