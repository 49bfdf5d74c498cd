#pragma once
// The random Llama checkpoint the benchmarks time: written to a temporary
// folder, loaded, and removed again.

#include <cstdint>

#include "ntks/model/decoder.h"

namespace ntks::bench {

struct LlamaShape {
  int64_t layers, hidden, intermediate, heads, kv_heads, vocab;
  int64_t max_seq_len;  ///< longest sequence the bench runs (max_position_embeddings >= it)
};

model::Decoder random_llama(const LlamaShape& shape, at::ScalarType dtype, at::Device device);

/// Weights of one decoder layer's seven projections (q, k, v, o, gate, up, down).
double layer_matmul_params(const model::HfConfig& c);

/// Matmul FLOPs per token of the hidden-state pass over sequences of
/// `seq_len` tokens: the projections 2 · layer_matmul_params, attention
/// scores and weighted sum 2 · 2 · seq_len · heads · head_dim per layer (the
/// full T x T product the explicit form computes). No vocabulary matmul.
double forward_flops_per_token(const model::HfConfig& c, int64_t seq_len);

/// Parameters in millions: the layers' projections and both embedding
/// matrices (norms are negligible).
double params_millions(const model::HfConfig& c);

}  // namespace ntks::bench
