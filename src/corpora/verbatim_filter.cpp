// Verbatim containment by rolling hash (design in verbatim_filter.h).

#include "ntks/corpora/verbatim_filter.h"

namespace ntks::corpora {
namespace {

// Polynomial hash mod 2^64: h(w) = sum w[i] * B^(k-1-i). Collisions only cost
// a comparison; the full compare decides.
constexpr uint64_t kBase = 0x100000001B3ULL;

uint64_t power(uint64_t b, size_t e) {
  uint64_t r = 1;
  for (size_t i = 0; i < e; ++i) r *= b;
  return r;
}

uint64_t window_hash(std::string_view w) {
  uint64_t h = 0;
  for (unsigned char c : w) h = h * kBase + c;
  return h;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

}  // namespace

std::string normalize_space(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (!is_space(c)) {
      out += c;
    } else if (!out.empty() && out.back() != ' ') {
      out += ' ';
    }
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

bool VerbatimFilter::add(std::string_view s) {
  std::string n = normalize_space(s);
  if (n.size() < kWindow) return false;
  const uint64_t h = window_hash(std::string_view(n).substr(0, kWindow));
  std::vector<uint32_t>& ids = by_hash_[h];
  for (uint32_t id : ids)
    if (strings_[id] == n) return false;
  ids.push_back(static_cast<uint32_t>(strings_.size()));
  strings_.push_back(std::move(n));
  const uint64_t bit = h >> (64 - kBitmapBits);
  bitmap_[bit / 64] |= uint64_t{1} << (bit % 64);
  return true;
}

long VerbatimFilter::find_in(std::string_view text) const {
  if (strings_.empty()) return -1;
  const std::string t = normalize_space(text);
  if (t.size() < kWindow) return -1;
  static const uint64_t top = power(kBase, kWindow - 1);
  uint64_t h = window_hash(std::string_view(t).substr(0, kWindow));
  for (size_t pos = 0;; ++pos) {
    const uint64_t bit = h >> (64 - kBitmapBits);
    if (bitmap_[bit / 64] >> (bit % 64) & 1) {
      auto it = by_hash_.find(h);
      if (it != by_hash_.end())
        for (uint32_t id : it->second)
          if (t.compare(pos, strings_[id].size(), strings_[id]) == 0) return id;
    }
    if (pos + kWindow >= t.size()) return -1;
    h = (h - static_cast<unsigned char>(t[pos]) * top) * kBase + static_cast<unsigned char>(t[pos + kWindow]);
  }
}

}  // namespace ntks::corpora
