#pragma once
// Pieces of the tokenizer pipeline shared by the tokenizer sources (not a
// public header: PCRE2 and utf8proc stay behind this module).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ntks::tokenizer::detail {

// ---- utf8.cpp ----------------------------------------------------------------

/// Byte offset of the first byte that is not part of well-formed UTF-8, or
/// npos when `text` is valid.
size_t find_invalid_utf8(std::string_view text);
/// `bytes` with every maximal ill-formed subsequence replaced by U+FFFD (the
/// rule of Rust's String::from_utf8_lossy).
std::string utf8_lossy(std::string_view bytes);
/// Length in bytes of the UTF-8 sequence that starts with `lead` (1 for
/// anything that is not a lead byte).
size_t utf8_length(unsigned char lead);
/// NFC of valid UTF-8 `text` (utf8proc).
std::string nfc(std::string_view text);

// ---- byte_level.cpp ----------------------------------------------------------

/// GPT-2's byte-to-unicode table: `bytes` as the UTF-8 of their mapped chars.
std::string bytes_to_unicode(std::string_view bytes);
/// Inverse for one token: its bytes, or the token's own bytes when one of its
/// chars is not in the table (as HF's ByteLevel decoder does).
std::string unicode_to_bytes(std::string_view token);

// ---- regex_split.cpp ---------------------------------------------------------

/// A compiled PCRE2 pattern (UTF, UCP, JIT when available) that splits text
/// with HF's "Isolated" behaviour: every match and every gap between matches is
/// a piece; empty pieces are dropped.
class RegexSplitter {
 public:
  /// `literal`: the pattern is a plain string (HF's {"String": ...}).
  /// Throws InputError naming `source` when the pattern does not compile.
  RegexSplitter(const std::string& pattern, bool literal, const std::string& source);
  RegexSplitter(RegexSplitter&&) noexcept;
  ~RegexSplitter();
  /// Appends the pieces of `text` (valid UTF-8) to `out`.
  void split(std::string_view text, std::vector<std::string_view>& out) const;

 private:
  struct Code;
  std::unique_ptr<Code> code_;
};

/// The pattern of ByteLevel's use_regex (GPT-2).
extern const char* const kGpt2Pattern;

// ---- bpe.cpp -----------------------------------------------------------------

/// Byte-level BPE model: vocabulary, merge ranks, ignore_merges.
struct Bpe {
  std::unordered_map<std::string, int32_t> vocab;
  /// (left id << 32 | right id) -> (rank, merged id).
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges;
  bool ignore_merges = false;
  int32_t unk_id = -1;  ///< -1: chars missing from the vocabulary are dropped (as HF)

  /// Appends the ids of one pre-token (already byte-level mapped).
  void encode_word(std::string_view word, std::vector<int32_t>& out) const;
};

}  // namespace ntks::tokenizer::detail
