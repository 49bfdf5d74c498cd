#pragma once
// Sums over ranks that do not depend on the rank count: training gives the
// same weights on 1, 2 or 3 ranks (issue 16 item 7).
//
// Floating-point addition is not associative, so an allreduce of per-rank
// sums gives other bits when the micro-batches are split over another number
// of ranks. Here every vector is first turned into fixed point: segment s of
// every vector is scaled by the same power of two 2^e_s, chosen from the
// largest magnitude over all ranks (one small max-allreduce) so that the sum
// of all K vectors stays below 2^62, rounded to int64 and summed as integers
// (exact, in any order: one int64 allreduce). The resolution is 2^-62 of the
// largest total, far below fp32's 2^-24, and the result has the same bits
// whichever rank held which vector and in which order they were added.

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace ntks::dist {
class Communicator;
}

namespace ntks::train {

struct ExactSumResult {
  at::Tensor sum;     ///< [n] float64, on the inputs' device (CPU when this rank had none)
  bool flag = false;  ///< OR of the ranks' flags
};

/// The sum over every rank of every vector in `local` (each [n] fp32 or
/// fp64, the same n everywhere; a rank may hold none). `segments`: the
/// lengths of the parts of a vector that get their own scale (they sum to n);
/// `vectors`: how many vectors all ranks hold together. `flag` rides along
/// (a stop request: true on every rank when any rank passes true). A NaN or
/// infinity in any vector gives a sum of NaNs.
ExactSumResult exact_sum(const std::vector<at::Tensor>& local, const std::vector<int64_t>& segments, int64_t vectors,
                         bool flag, const at::TensorOptions& device, dist::Communicator& comm);

}  // namespace ntks::train
