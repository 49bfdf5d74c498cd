#pragma once
// The random projection of per-sample LoRA gradients (DESIGN §2 step 4):
//   ĝ = Pᵀ g / √d
// with P [|LoRA| × d] drawn by a counter-based generator keyed by (seed, i, j),
// where i is the parameter's index in the unprojected layout (layer-major;
// modules q, k, v, o, gate, up, down; lora_A before lora_B; row-major) and j
// the output column. Any block of rows can be generated on its own, so P is
// never materialised whole, and every rank, shard layout, batch size and
// device sees the same matrix. Two kinds (grads.projection):
//
// rademacher (the paper's, the default): P ∈ {-1, +1}^{|LoRA| × d}.
//   Speed: P is regenerated for every batch (|LoRA| × d signs). On an x86-64
//   CPU with AVX2 (dim % 64 == 0) a block of rows is generated once as sign
//   words (8 rows at a time with AVX-512) and multiplied straight from the
//   bits by a register-blocked kernel shared by all samples of the batch
//   (AVX-512: 8 samples × 32 columns, the sign vector a mask blend; AVX2: 4 ×
//   16 through a byte -> 8 floats table), columns in parallel. Otherwise rows
//   are expanded to floats into one reused block buffer and multiplied with
//   one addmm per block. CUDA tensors: src/features/projector_device.h.
//   The generator:
//     mix(x)      = splitmix64 finaliser of x + 0x9E3779B97F4A7C15
//     row_key(i)  = mix(mix(seed) ^ mix(i))
//     word(i, w)  = mix(row_key(i) + w)                  (64 columns per word)
//     P[i, j]     = bit (j mod 64) of word(i, j / 64) ? -1 : +1
//
// sparse (beyond the paper): a sparse Johnson–Lindenstrauss transform in
//   Kane and Nelson's block form (2014). The d columns are cut into s =
//   grads.sparsity blocks of w = d / s; row i has one nonzero in each block:
//     word(i, k)  = mix(row_key(i) + k)                  (k = 0 .. s-1)
//     column      = k·w + ⌊word(i, k) · w / 2^64⌋
//     P[i, column] = (bit 0 of word(i, k) ? -1 : +1) · √(d / s), 0 elsewhere
//   E[PPᵀ]/d = I as for the dense matrix, so ĝ·ĝ' estimates g·g' without
//   bias, with the dense matrix's variance on gradients whose mass is spread
//   over many coordinates; the cost per batch is s multiply-adds per sample
//   and gradient coordinate instead of d (8192), and s hashes per coordinate
//   shared by the batch. The sums into one output column run in row order,
//   so the result does not depend on threads or on how g is sliced into
//   calls (up to float rounding between slices, as for the dense kind).
//   src/features/sparse_projection.cpp.

#include <torch/torch.h>

#include <cstdint>

#include "ntks/config/config.h"

namespace ntks::features {

/// splitmix64's output function of x + golden gamma (Steele et al. 2014).
uint64_t mix64(uint64_t x);

/// P[i, j] as ±1.
int rademacher_sign(uint64_t seed, uint64_t i, uint64_t j);

class Projector {
 public:
  /// The paper's dense Rademacher projection. dim: d, the projected size (> 0,
  /// a multiple of 64 is fastest); block_rows: rows of P generated at once
  /// (memory: block_rows × d floats; the fused CPU path keeps block_rows ×
  /// d/64 words of signs, 256 KB at 256 × 8192, which measured fastest).
  Projector(uint64_t seed, int64_t dim, int64_t block_rows = 256);

  /// The projection that grads.{projection, seed, sparsity} name, to `dim`
  /// columns (grads.dim, or a command's own --dim).
  Projector(const config::GradsConfig& grads, int64_t dim);

  /// The sparse JL transform with `sparsity` nonzeros per row (divides dim).
  static Projector sparse(uint64_t seed, int64_t dim, int64_t sparsity);

  int64_t dim() const { return dim_; }
  config::Projection kind() const { return kind_; }
  int64_t sparsity() const { return sparsity_; }

  /// Rows [first_row, first_row + rows) of P (not yet divided by √d: ±1 for
  /// rademacher, 0 or ±√(d/s) for sparse), fp32 on `device`.
  at::Tensor rows(uint64_t first_row, int64_t rows, at::Device device = at::kCPU) const;

  /// out[b, :] += g[b, :] · P[first_row : first_row + g.size(1), :] / √d for a
  /// slice of the gradient that starts at parameter index first_row.
  /// g: [batch, n] fp32; out: [batch, dim] fp32, same device.
  void accumulate(const at::Tensor& g, uint64_t first_row, at::Tensor& out) const;

 private:
  uint64_t seed_;
  int64_t dim_;
  int64_t block_rows_;
  config::Projection kind_ = config::Projection::rademacher;
  int64_t sparsity_ = 1;
};

}  // namespace ntks::features
