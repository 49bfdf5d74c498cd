#pragma once
// Per-sample gradients of the LoRA parameters for a whole batch in one
// backward pass (DESIGN §2 step 4 and §7), optionally projected.
//
// f(x), per sample, over its response tokens R (token t is predicted by row t-1):
//   logit_sum:       (1/|R|) Σ_{t∈R} Σ_v logits[t-1, v] = (1/|R|) Σ_{t∈R} h_{t-1} · Σ_v W_lm[v]
//   log_likelihood:  (1/|R|) Σ_{t∈R} log softmax(logits[t-1])[ids[t]]
// times grads.scale. A response token at position 0 has no predicting row
// and does not count; a sample with no response token after position 0 has
// no f at all and per_sample_grads throws InputError naming its batch row
// (check scored_token_counts() first to leave such samples out). Padding
// (mask 0) never counts and does not change any sample's gradient.
//
// How (DESIGN §7): one forward with LoRA traces (x, u = A·x, y = s·B·u of
// every module), F = Σ_b f_b, ONE torch::autograd::grad of F for every
// traced y: since samples do not interact, row b of δ = ∂F/∂y is ∂f_b/∂y.
// Then per module ∂f/∂u = s·δ·B, per sample ∂f/∂B = s·Σ_t δ_t u_tᵀ and
// ∂f/∂A = Σ_t (∂f/∂u_t) x_tᵀ as batched matmuls. The LoRA math is fp32 for
// fp32, bf16 and fp16 base weights.
//
// The gradient layout (grads.dim = 0, and the parameter index of the
// projector): layer-major; within a layer modules q, k, v, o, gate, up, down
// (those with LoRA); per module lora_A [r, in] then lora_B [out, r]; each
// row-major — the order of Decoder::lora_parameters(), flattened.

#include <torch/torch.h>

#include <cstdint>
#include <functional>

#include "ntks/config/config.h"
#include "ntks/features/batching.h"
#include "ntks/model/decoder.h"

namespace ntks::features {

/// Receives one parameter tensor's per-sample gradients: `g` [B, numel] fp32,
/// whose column 0 is parameter index `offset` of the layout.
using GradSink = std::function<void(int64_t offset, const at::Tensor& g)>;

/// Computes the per-sample gradients of f for every sample of `batch` and
/// hands them to `sink` parameter tensor by parameter tensor, in layout order.
/// The decoder must carry a LoRA adapter; dropout is off. The sink sees one
/// module's A then B gradients at a time; they are freed after the call, so
/// memory beyond the forward graph is one module's [B, numel].
/// Not reentrant on one Decoder: lora_B requires grad during the call (and
/// is restored after). Runs autograd whatever the GradMode; not under
/// c10::InferenceMode.
void per_sample_grads(const model::Decoder& dec, const Batch& batch, config::GradOutput output, double scale,
                      const GradSink& sink);

/// Per batch row, the tokens f(x) averages over: real response tokens at
/// positions ≥ 1. [B] int64 on the CPU.
at::Tensor scored_token_counts(const Batch& batch);

/// Number of LoRA parameters (the length of the unprojected gradient).
int64_t lora_parameter_count(const model::Decoder& dec);

}  // namespace ntks::features
