// The open-addressing lookup tables of the BPE hot path (see parts.h).

#include <xxhash.h>

#include "tokenizer/parts.h"

namespace ntks::tokenizer::detail {
namespace {

// A power of two with at most half of it filled.
size_t table_size(size_t entries) {
  size_t n = 16;
  while (n < 2 * entries) n *= 2;
  return n;
}

}  // namespace

uint64_t BytesMap::hash(std::string_view key) { return XXH3_64bits(key.data(), key.size()) | 1; }

void BytesMap::build(const std::vector<std::pair<std::string, int32_t>>& entries) {
  slots_.assign(table_size(entries.size()), Slot{});
  mask_ = slots_.size() - 1;
  arena_.clear();
  for (const auto& [key, value] : entries) {
    const uint64_t h = hash(key);
    size_t i = h & mask_;
    for (; slots_[i].hash != 0; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.hash == h && std::string_view(arena_).substr(s.offset, s.length) == key) break;  // first one wins
    }
    if (slots_[i].hash != 0) continue;
    slots_[i] = Slot{h, static_cast<uint32_t>(arena_.size()), static_cast<uint32_t>(key.size()), value};
    arena_ += key;
  }
}

int32_t BytesMap::find(std::string_view key) const {
  if (slots_.empty()) return -1;
  const uint64_t h = hash(key);
  for (size_t i = h & mask_;; i = (i + 1) & mask_) {
    const Slot& s = slots_[i];
    if (s.hash == 0) return -1;
    if (s.hash == h && s.length == key.size() && arena_.compare(s.offset, s.length, key.data(), key.size()) == 0)
      return s.value;
  }
}

void PairMap::build(const std::unordered_map<uint64_t, std::pair<int32_t, int32_t>>& entries) {
  slots_.assign(table_size(entries.size()), Slot{});
  mask_ = slots_.size() - 1;
  for (const auto& [key, value] : entries) {
    size_t i = mix(key) & mask_;
    while (slots_[i].key != kEmpty) i = (i + 1) & mask_;
    slots_[i] = Slot{key, Value{value.first, value.second}};
  }
}

}  // namespace ntks::tokenizer::detail
