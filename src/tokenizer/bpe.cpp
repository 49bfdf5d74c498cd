// BPE merging of one pre-token: start from its chars and repeatedly merge the
// adjacent pair with the lowest merge rank, leftmost first, which is the order
// HF's priority queue (rank, position) produces.

#include <limits>

#include "tokenizer/parts.h"

namespace ntks::tokenizer::detail {

void Bpe::encode_word(std::string_view word, std::vector<int32_t>& out) const {
  if (ignore_merges) {
    auto it = vocab.find(std::string(word));
    if (it != vocab.end()) {
      out.push_back(it->second);
      return;
    }
  }
  std::vector<int32_t> parts;
  parts.reserve(word.size());
  for (size_t pos = 0; pos < word.size();) {
    const size_t n = utf8_length(static_cast<unsigned char>(word[pos]));
    auto it = vocab.find(std::string(word.substr(pos, n)));
    if (it != vocab.end()) {
      parts.push_back(it->second);
    } else if (unk_id >= 0) {
      parts.push_back(unk_id);
    }
    pos += n;
  }
  auto key = [](int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  };
  while (parts.size() > 1) {
    int32_t best_rank = std::numeric_limits<int32_t>::max(), best_id = -1;
    size_t best_pos = 0;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      auto it = merges.find(key(parts[i], parts[i + 1]));
      if (it != merges.end() && it->second.first < best_rank) {
        best_rank = it->second.first;
        best_id = it->second.second;
        best_pos = i;
      }
    }
    if (best_id < 0) break;
    parts[best_pos] = best_id;
    parts.erase(parts.begin() + static_cast<std::ptrdiff_t>(best_pos) + 1);
  }
  out.insert(out.end(), parts.begin(), parts.end());
}

}  // namespace ntks::tokenizer::detail
