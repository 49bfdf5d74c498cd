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

}  // namespace ntks::bench
