#pragma once
// Kernel matrices of per-sample LoRA gradients for the diagnostics: the
// Jacobian-free kernel the selection uses (features/sample_grads.h, f = the
// grads.output of the response rows), projected or not, split into the
// lora_A and lora_B parts; and the exact (trace) NTK over the vocabulary.

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "ntks/config/config.h"
#include "ntks/data/sample_reader.h"
#include "ntks/features/projector.h"
#include "ntks/model/decoder.h"

namespace ntks::diagnose {

/// Per-sample gradient rows of `samples` (same order), float32 on the CPU:
/// ĝ = Pᵀg/√d with a projector, else g in the layout of sample_grads.h.
/// `a` + `b` = the whole row: `a` comes from the lora_A tensors, `b` from
/// lora_B (at a fresh adapter, B = 0, every `a` row is exactly 0).
struct GradientRows {
  at::Tensor a, b;  ///< [n, d]
  at::Tensor all() const { return a + b; }
};
GradientRows gradient_rows(const model::Decoder& dec, const std::vector<data::Sample>& samples,
                           config::GradOutput output, double scale, const features::Projector* projector,
                           int64_t batch_size);

/// G Gᵀ in float64 on the CPU.
at::Tensor gram(const at::Tensor& rows);

/// The exact (trace) NTK of the per-vocabulary outputs
///   z_v(x) = scale/|R| Σ_{t∈R} logits[t-1, v]      (the rows f(x) averages over)
///   K(x, x') = Σ_v <∇z_v(x), ∇z_v(x')>              (∇ over the LoRA parameters)
/// computed without a vocabulary-sized loop: z_v = W_v · h̄(x) with
/// h̄ = scale/|R| Σ_t h_{t-1} (the final hidden states), so with
/// WᵀW = Σ_j c_j c_jᵀ (eigenvectors scaled by √eigenvalue; rank ≤ hidden size)
///   K(x, x') = Σ_j <∇(c_j · h̄(x)), ∇(c_j · h̄(x'))>
/// exactly: one backward per sample and direction, min(V, hidden) directions
/// instead of V. Each sample runs alone (no padding) with its graph kept for
/// all directions; memory: the graphs plus two [n, |LoRA|] float32 buffers.
struct ExactNtk {
  at::Tensor kernel;       ///< [n, n] float64
  int64_t directions = 0;  ///< nonzero eigen-directions of WᵀW used
};
ExactNtk exact_trace_ntk(const model::Decoder& dec, const std::vector<data::Sample>& samples, double scale);

/// A rough upper estimate of the autograd graph of one sample of `tokens`
/// tokens through `dec` (saved activations of every layer, fp32), in bytes.
int64_t graph_bytes_estimate(const model::Decoder& dec, int64_t tokens);

/// The entries of a float64 tensor, row-major.
std::vector<double> to_vector(const at::Tensor& t);

}  // namespace ntks::diagnose
