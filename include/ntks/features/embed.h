#pragma once
// Embeddings for the kNN pre-selection (DESIGN §2 step 2): the mean of the
// final hidden state (after the final norm) over a sample's tokens, with the
// warmed-up adapter applied.

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "ntks/data/sample_reader.h"
#include "ntks/features/batching.h"
#include "ntks/model/decoder.h"

namespace ntks::features {

/// Masked mean of the final hidden states of `batch`: [B, hidden] fp32 on
/// the batch's device. Padding never contributes.
at::Tensor mean_embeddings(const model::Decoder& dec, const Batch& batch);

/// Embeddings of `samples` [n, hidden] (fp32, CPU, in their order), computed
/// in batches of at most `batch_tokens` padded tokens after sorting by length.
at::Tensor embed_samples(const model::Decoder& dec, const std::vector<data::Sample>& samples, int64_t batch_tokens);

}  // namespace ntks::features
