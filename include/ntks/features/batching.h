#pragma once
// Batches of samples for the model: grouped by a padded-token budget after
// sorting by length (DESIGN §7: little padding), and turned into tensors.

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "ntks/data/sample_reader.h"

namespace ntks::features {

/// Groups positions 0..lengths.size()-1 into batches: sorted by length
/// (longest first, ties by position, so the result does not depend on how the
/// samples were ordered), each batch's rows × its longest length at most
/// `token_budget`, at most `max_rows` rows (0: no row limit), and padding at
/// most `max_padding` of its padded tokens (1: no limit). A sample longer
/// than the budget forms a batch of its own. Within a batch positions are in
/// ascending order.
std::vector<std::vector<size_t>> batches_by_tokens(const std::vector<int64_t>& lengths, int64_t token_budget,
                                                   int64_t max_rows = 0, double max_padding = 1.0);

/// The padding limit of the embed and grads batches. A sorted group of a
/// few dozen samples of spread lengths would otherwise make one batch padded
/// to its longest sample (three times the real tokens on WordNet-like data):
/// a batch of a quarter padding at most costs more forward passes of fewer
/// rows, which on CPU (and at these row counts on GPU) is far cheaper than
/// computing the padding. Long sorted groups rarely reach the limit.
constexpr double kMaxPadding = 0.25;

/// A right-padded batch.
struct Batch {
  at::Tensor ids;       ///< [B, T] int64, 0 on padding
  at::Tensor mask;      ///< [B, T] int64, 1 on real tokens
  at::Tensor response;  ///< [B, T] float32, 1 on response tokens (the mask of the loss)
};

/// Tensors of `samples` (in the given order) on `device`.
Batch make_batch(const std::vector<const data::Sample*>& samples, at::Device device);

}  // namespace ntks::features
