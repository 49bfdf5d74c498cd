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
/// `token_budget` and at most `max_rows` rows (0: no row limit). A sample
/// longer than the budget forms a batch of its own. Within a batch positions
/// are in ascending order.
std::vector<std::vector<size_t>> batches_by_tokens(const std::vector<int64_t>& lengths, int64_t token_budget,
                                                   int64_t max_rows = 0);

/// A right-padded batch.
struct Batch {
  at::Tensor ids;       ///< [B, T] int64, 0 on padding
  at::Tensor mask;      ///< [B, T] int64, 1 on real tokens
  at::Tensor response;  ///< [B, T] float32, 1 on response tokens (the mask of the loss)
};

/// Tensors of `samples` (in the given order) on `device`.
Batch make_batch(const std::vector<const data::Sample*>& samples, at::Device device);

}  // namespace ntks::features
