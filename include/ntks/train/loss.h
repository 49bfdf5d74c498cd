#pragma once
// The warm-up loss (DESIGN §2, §9): per sample, the mean negative
// log-likelihood of its response tokens, token t predicted by row t-1.

#include <torch/torch.h>

#include "ntks/features/batching.h"
#include "ntks/model/decoder.h"

namespace ntks::train {

/// Per-sample loss [B] in fp32 from the final hidden states [B, T, hidden] of
/// `batch`. Only the rows that predict a response token go through the output
/// projection (no [B, T, vocab] tensor); logits are cast to fp32 before the
/// log-softmax, as Hugging Face does. A sample without a response token after
/// its first position has loss 0 (and no gradient).
at::Tensor response_nll(const model::Decoder& decoder, const at::Tensor& hidden, const features::Batch& batch);

}  // namespace ntks::train
