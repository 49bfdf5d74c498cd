#pragma once
// Held-out loss of a model: the mean NLL of the response tokens of samples,
// computed data parallel (each rank a contiguous part, the per-sample values
// shared by one allreduce), without gradients. Pretraining evaluates its
// held-out sequences with it, `ntk-select evaluate` a test set; the same
// per-sample values score answer options by their log-likelihood.

#include <cstdint>
#include <vector>

#include "ntks/data/sample_reader.h"
#include "ntks/dist/communicator.h"
#include "ntks/model/decoder.h"

namespace ntks::train {

struct HeldOutLoss {
  double loss = 0;              ///< mean NLL per target token (token-weighted over all samples)
  double perplexity = 0;        ///< exp(loss)
  double mean_sample_loss = 0;  ///< mean over the samples (with a target) of each sample's mean NLL
  int64_t tokens = 0;           ///< target tokens counted
  int64_t samples = 0;
};

/// Per sample, in order, on every rank: the summed NLL of its target tokens
/// (the response tokens after the first position) and their count.
struct SampleNll {
  std::vector<double> nll;
  std::vector<int64_t> targets;
};

/// Every rank passes the same `samples`; `batch_size` samples per forward.
SampleNll sample_nll(const model::Decoder& decoder, const std::vector<data::Sample>& samples, int64_t batch_size,
                     dist::Communicator& comm);

/// The loss of `samples` (sample_nll summed).
HeldOutLoss held_out_loss(const model::Decoder& decoder, const std::vector<data::Sample>& samples, int64_t batch_size,
                          dist::Communicator& comm);

/// Multiple-choice accuracy. Question k has `counts[k]` consecutive samples
/// in `options` (the same prompt, each option as the response) and the right
/// one at index `answers[k]`. An option's score is its mean log-likelihood
/// per response token (`accuracy`) or its total (`accuracy_sum`); a question
/// is answered right when the answer scores highest (ties: the lowest index;
/// identical options get the same score, whatever batch they fell in).
struct ChoiceResult {
  int64_t questions = 0;
  int64_t options = 0;              ///< option samples scored
  double accuracy = 0;              ///< share right by mean log-likelihood per token
  double accuracy_sum = 0;          ///< share right by summed log-likelihood
  std::vector<int64_t> predicted;   ///< per question, the index chosen by the mean
};
ChoiceResult choice_accuracy(const model::Decoder& decoder, const std::vector<data::Sample>& options,
                             const std::vector<int64_t>& counts, const std::vector<int64_t>& answers,
                             int64_t batch_size, dist::Communicator& comm);

}  // namespace ntks::train
