#pragma once
// Held-out loss of a model: the mean NLL of the response tokens of samples,
// computed data parallel (each rank a contiguous part, sums by allreduce),
// without gradients. Pretraining evaluates its held-out sequences with it.

#include <cstdint>
#include <vector>

#include "ntks/data/sample_reader.h"
#include "ntks/dist/communicator.h"
#include "ntks/model/decoder.h"

namespace ntks::train {

struct HeldOutLoss {
  double loss = 0;        ///< mean NLL per target token
  double perplexity = 0;  ///< exp(loss)
  int64_t tokens = 0;     ///< target tokens counted
  int64_t samples = 0;
};

/// Every rank passes the same `samples`; `batch_size` samples per forward.
HeldOutLoss held_out_loss(const model::Decoder& decoder, const std::vector<data::Sample>& samples, int64_t batch_size,
                          dist::Communicator& comm);

}  // namespace ntks::train
