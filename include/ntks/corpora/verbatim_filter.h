#pragma once
// Does a text contain, verbatim, any of a set of strings? The exclusion test
// of the pretraining corpus: no document may hold a held-out sample's field
// or a held-out synset's gloss.
//
// Both sides are compared with whitespace normalized (ends trimmed, every run
// of spaces, tabs and line breaks read as one space), so a gloss wrapped over
// two lines of a dictionary entry still counts. Strings shorter than kWindow
// bytes after that are not added: short phrases ("a kind of") are everywhere.
//
// Time linear in the text: a hash of each string's first kWindow bytes goes
// into a table (with a bitmap in front); a rolling hash over every kWindow-byte
// window of the text looks it up, and a hit is compared in full.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ntks::corpora {

/// `s` with its ends trimmed and each whitespace run as one space.
std::string normalize_space(std::string_view s);

class VerbatimFilter {
 public:
  static constexpr size_t kWindow = 20;

  /// Adds `s` (normalized). False when it is shorter than kWindow or already in.
  bool add(std::string_view s);
  size_t size() const { return strings_.size(); }
  const std::string& string(size_t i) const { return strings_[i]; }

  /// Index of an added string that `text` contains (the one found first,
  /// scanning from the start), or -1.
  long find_in(std::string_view text) const;

 private:
  static constexpr unsigned kBitmapBits = 22;
  std::vector<std::string> strings_;
  std::unordered_map<uint64_t, std::vector<uint32_t>> by_hash_;  ///< window hash -> strings
  std::vector<uint64_t> bitmap_ = std::vector<uint64_t>((size_t{1} << kBitmapBits) / 64);
};

}  // namespace ntks::corpora
