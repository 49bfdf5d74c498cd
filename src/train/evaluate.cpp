#include "ntks/train/evaluate.h"

#include <cmath>

#include "ntks/features/batching.h"
#include "ntks/train/loss.h"
#include "ntks/util/error.h"

namespace ntks::train {

SampleNll sample_nll(const model::Decoder& decoder, const std::vector<data::Sample>& samples, int64_t batch_size,
                     dist::Communicator& comm) {
  NTKS_CHECK(batch_size > 0, "batch size {}", batch_size);
  torch::NoGradGuard no_grad;
  const auto n = static_cast<int64_t>(samples.size());
  SampleNll out;
  if (n == 0) return out;  // the same on every rank: no collective
  const int64_t begin = n * comm.rank() / comm.size(), end = n * (comm.rank() + 1) / comm.size();
  // Rows [nll, targets] of every sample; each rank fills its own, one
  // allreduce (sum) gives every rank all of them.
  at::Tensor table = torch::zeros({n, 2}, at::kDouble);
  for (int64_t i = begin; i < end; i += batch_size) {
    std::vector<const data::Sample*> ptrs;
    for (int64_t k = i; k < std::min(end, i + batch_size); ++k) ptrs.push_back(&samples[static_cast<size_t>(k)]);
    const features::Batch batch = features::make_batch(ptrs, decoder.device());
    // Per sample: loss = (sum of target NLLs) / targets.
    const at::Tensor loss = response_nll(decoder, decoder.hidden_states(batch.ids, batch.mask), batch);
    const int64_t B = batch.ids.size(0), T = batch.ids.size(1);
    const at::Tensor count =
        T < 2 ? torch::zeros({B}, at::kDouble) : batch.response.narrow(1, 1, T - 1).sum(1).to(at::kCPU, at::kDouble);
    table.narrow(0, i, B).select(1, 0).copy_(loss.to(at::kCPU, at::kDouble) * count);
    table.narrow(0, i, B).select(1, 1).copy_(count);
  }
  comm.allreduce(table, dist::ReduceOp::sum);
  const auto acc = table.accessor<double, 2>();
  for (int64_t i = 0; i < n; ++i) {
    out.nll.push_back(acc[i][0]);
    out.targets.push_back(static_cast<int64_t>(acc[i][1]));
  }
  return out;
}

HeldOutLoss held_out_loss(const model::Decoder& decoder, const std::vector<data::Sample>& samples, int64_t batch_size,
                          dist::Communicator& comm) {
  const SampleNll per = sample_nll(decoder, samples, batch_size, comm);
  HeldOutLoss out;
  out.samples = static_cast<int64_t>(samples.size());
  double nll = 0, sample_means = 0;
  int64_t counted = 0;
  for (size_t i = 0; i < per.nll.size(); ++i) {
    nll += per.nll[i];
    out.tokens += per.targets[i];
    if (per.targets[i] == 0) continue;
    sample_means += per.nll[i] / static_cast<double>(per.targets[i]);
    ++counted;
  }
  out.loss = out.tokens > 0 ? nll / static_cast<double>(out.tokens) : 0;
  out.perplexity = std::exp(out.loss);
  out.mean_sample_loss = counted > 0 ? sample_means / static_cast<double>(counted) : 0;
  return out;
}

ChoiceResult choice_accuracy(const model::Decoder& decoder, const std::vector<data::Sample>& options,
                             const std::vector<int64_t>& counts, const std::vector<int64_t>& answers,
                             int64_t batch_size, dist::Communicator& comm) {
  NTKS_CHECK(counts.size() == answers.size(), "{} option counts for {} answers", counts.size(), answers.size());
  const SampleNll per = sample_nll(decoder, options, batch_size, comm);
  ChoiceResult r;
  r.questions = static_cast<int64_t>(counts.size());
  r.options = static_cast<int64_t>(options.size());
  int64_t right = 0, right_sum = 0;
  size_t at = 0;
  for (size_t q = 0; q < counts.size(); ++q) {
    NTKS_CHECK(counts[q] > 0 && at + static_cast<size_t>(counts[q]) <= options.size() && answers[q] >= 0 &&
                   answers[q] < counts[q],
               "question {}: {} options from {} of {}, answer {}", q, counts[q], at, options.size(), answers[q]);
    int64_t best = 0, best_sum = 0;
    double best_mean = 0, best_total = 0;
    for (int64_t k = 0; k < counts[q]; ++k) {
      size_t i = at + static_cast<size_t>(k);
      // An option identical to an earlier one takes its score, so that the
      // tie is exact whatever batch each was computed in.
      for (size_t e = at; e < i; ++e)
        if (options[e].ids == options[i].ids && options[e].response_mask == options[i].response_mask) {
          i = e;
          break;
        }
      const double total = -per.nll[i];
      const double mean = per.targets[i] > 0 ? total / static_cast<double>(per.targets[i]) : 0;
      // Strictly greater: a tie keeps the lower index.
      if (k == 0 || mean > best_mean) best = k, best_mean = mean;
      if (k == 0 || total > best_total) best_sum = k, best_total = total;
    }
    r.predicted.push_back(best);
    right += best == answers[q] ? 1 : 0;
    right_sum += best_sum == answers[q] ? 1 : 0;
    at += static_cast<size_t>(counts[q]);
  }
  NTKS_CHECK(at == options.size(), "{} of {} option samples belong to a question", at, options.size());
  if (r.questions > 0) {
    r.accuracy = static_cast<double>(right) / static_cast<double>(r.questions);
    r.accuracy_sum = static_cast<double>(right_sum) / static_cast<double>(r.questions);
  }
  return r;
}

}  // namespace ntks::train
