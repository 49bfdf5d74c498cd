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

/// embed.batch_tokens as it runs on `device`: `configured`, or for 0 (auto)
/// 4096 on a CPU (at the peer-bench shape, 4 x 512 with 256-token samples,
/// batches of 16384 tokens ran at 49-54% of the GEMM peak and of 2048-4096 at
/// 69-78%: their activations stay in the caches) and 16384 on a GPU.
int64_t embed_batch_tokens(int64_t configured, at::Device device);

/// Embeddings of `samples` [n, hidden] (fp32, CPU, in their order), computed
/// in batches of at most `batch_tokens` padded tokens (0: auto, above) after
/// sorting by length.
at::Tensor embed_samples(const model::Decoder& dec, const std::vector<data::Sample>& samples, int64_t batch_tokens);

}  // namespace ntks::features
