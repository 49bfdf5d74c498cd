#pragma once
// The per-thread cache of word ids that Tokenizer::encode keeps
// (tokenizer.cpp holds one per thread and tokenizer in a thread_local).

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ntks::tokenizer::detail {

// Ids of recently seen words, one cache per thread: a thread reads and writes
// only its own, so encode() on many threads never waits on a lock (a shared
// map behind a mutex made two threads slower than one). Open addressing over
// flat arrays; when it fills up it is emptied (the words that matter come
// back in a few documents).
class WordCache {
 public:
  uint64_t owner = 0;  ///< Tokenizer::Impl::instance whose ids these are

  /// The ids of `word` (hash `h`) appended to `out`; false when not cached.
  bool append(std::string_view word, uint64_t h, std::vector<int32_t>& out) const {
    if (slots_.empty()) return false;
    for (size_t i = h & kMask;; i = (i + 1) & kMask) {
      const Slot& s = slots_[i];
      if (s.hash == 0) return false;
      if (s.hash == h && s.key_length == word.size() &&
          keys_.compare(s.key_offset, s.key_length, word.data(), word.size()) == 0) {
        out.insert(out.end(), ids_.begin() + s.ids_offset, ids_.begin() + s.ids_offset + s.ids_length);
        return true;
      }
    }
  }

  void insert(std::string_view word, uint64_t h, const int32_t* ids, size_t n) {
    if (slots_.empty()) slots_.resize(kMask + 1);
    if (used_ >= kMaxEntries) clear();
    size_t i = h & kMask;
    while (slots_[i].hash != 0) i = (i + 1) & kMask;
    slots_[i] = Slot{h, static_cast<uint32_t>(keys_.size()), static_cast<uint32_t>(word.size()),
                     static_cast<uint32_t>(ids_.size()), static_cast<uint32_t>(n)};
    keys_.append(word);
    ids_.insert(ids_.end(), ids, ids + n);
    ++used_;
  }

  void clear() {
    std::fill(slots_.begin(), slots_.end(), Slot{});
    keys_.clear();
    ids_.clear();
    used_ = 0;
  }

 private:
  // 16k words (HF's cache holds 10k) in about 1 MB per thread and tokenizer.
  static constexpr size_t kMask = (size_t{1} << 15) - 1;
  static constexpr size_t kMaxEntries = size_t{1} << 14;  ///< at most half full
  struct Slot {
    uint64_t hash = 0;  ///< 0: empty (callers pass BytesMap::hash, which is odd)
    uint32_t key_offset = 0, key_length = 0, ids_offset = 0, ids_length = 0;
  };
  std::vector<Slot> slots_;
  std::string keys_;
  std::vector<int32_t> ids_;
  size_t used_ = 0;
};

}  // namespace ntks::tokenizer::detail
