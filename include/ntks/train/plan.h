#pragma once
// Which samples each optimizer step uses and which rank computes which.
//
// The global batch does not depend on the number of ranks: an optimizer step
// consumes batch_size × grad_accum samples of the epoch's shuffled order in
// total, whatever the rank count; they are dealt to the ranks, and each rank
// cuts its share into micro-batches of at most batch_size samples. The last
// step of an epoch takes the samples left over (fewer than a full step) and is
// a step of its own, so every sample is seen once per epoch; its gradient is
// averaged over the samples it has, so it is not down-weighted.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ntks::train {

/// Optimizer steps per epoch: ceil(samples / step_samples).
int64_t steps_per_epoch(int64_t samples, int64_t step_samples);

/// The sample order of one epoch: a permutation of 0..n-1 drawn from (seed,
/// epoch) by a Fisher-Yates shuffle on a SplitMix64 stream, so it is the
/// same on every rank, platform and standard library.
std::vector<size_t> epoch_order(size_t n, uint64_t seed, int64_t epoch);

/// The micro-batches of one step, the same on any rank count: the step's
/// samples sorted by length (longest first, ties by position in
/// `step_samples`) and cut into batches of at most `batch_size` consecutive
/// samples (similar lengths: little padding). Which samples share a forward
/// pass is fixed, so a micro-batch's gradient has the same bits whichever
/// rank computes it.
std::vector<std::vector<size_t>> step_micro_batches(const std::vector<size_t>& step_samples,
                                                    const std::vector<int64_t>& lengths, int64_t batch_size);

/// The micro-batches (indices into `micro`) that `rank` of `size` computes:
/// dealt by padded tokens (samples x longest length), each to the rank with
/// the least so far (ties: the lower rank), in the order of `micro`, so that
/// ranks get nearly equal work. A rank gets none when the step has fewer
/// micro-batches than there are ranks.
std::vector<size_t> rank_share(const std::vector<std::vector<size_t>>& micro, const std::vector<int64_t>& lengths,
                               int rank, int size);

/// SplitMix64 of x: a well-mixed 64-bit value, for deriving seeds.
uint64_t mix_seed(uint64_t x);

}  // namespace ntks::train
