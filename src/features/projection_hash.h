#pragma once
// The per-row key both projection kinds draw their words from (projector.h).

#include <cstdint>

#include "ntks/features/projector.h"

namespace ntks::features {

/// row_key(i) = mix(mix(seed) ^ mix(i)), with seed_key = mix(seed).
inline uint64_t row_key(uint64_t seed_key, uint64_t i) { return mix64(seed_key ^ mix64(i)); }

}  // namespace ntks::features
