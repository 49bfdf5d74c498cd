#pragma once
// Pieces of the tokenizer pipeline shared by the tokenizer sources (not a
// public header: PCRE2 and utf8proc stay behind this module).

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ntks::tokenizer::detail {

// ---- utf8.cpp ----------------------------------------------------------------

/// Length in bytes of the UTF-8 sequence that starts with `lead` (1 for
/// anything that is not a lead byte).
size_t utf8_length(unsigned char lead);
/// The code point at `pos` of valid UTF-8 `text`, and its length in `len`.
char32_t code_point(std::string_view text, size_t pos, size_t* len);
/// NFC of valid UTF-8 `text` as Hugging Face's tokenizers computes it (utf8proc, cut at
/// the code points HF's Unicode 9.0 tables do not know: nfc_hf.h).
std::string nfc(std::string_view text);
/// False when NFC cannot change valid UTF-8 `text`: every char of it is in
/// nfc_inert(), so the costly utf8proc pass can be skipped.
bool needs_nfc(std::string_view text);
/// Chars that NFC leaves alone whatever their neighbours are (within ranges
/// such as ASCII-Latin-1, CJK ideographs, kana, Hangul syllables, most
/// Cyrillic and Arabic letters, emoji): combining class 0, their own NFC, and
/// neither they nor the first char of their decomposition is ever the second
/// char of a composition (checked against utf8proc by a unit test).
bool nfc_inert(char32_t c);

// ---- byte_level.cpp ----------------------------------------------------------

/// GPT-2's byte-to-unicode table: `bytes` as the UTF-8 of their mapped chars.
std::string bytes_to_unicode(std::string_view bytes);
/// Inverse for one token: its bytes, or the token's own bytes when one of its
/// chars is not in the table (as HF's ByteLevel decoder does).
std::string unicode_to_bytes(std::string_view token);
/// The bytes of `token` into `bytes` when every char of it is in the table;
/// false otherwise (such a token never matches a byte-level word).
bool unicode_to_bytes_exact(std::string_view token, std::string& bytes);

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

// ---- flat_maps.cpp ------------------------------------------------------------

/// Read-only open-addressing map from byte strings to ids: one probe sequence
/// over a flat array and one arena of keys, no allocation per lookup (a
/// std::unordered_map<std::string, ...> needs a std::string per lookup).
class BytesMap {
 public:
  void build(const std::vector<std::pair<std::string, int32_t>>& entries);
  /// The id of `key`, or -1.
  int32_t find(std::string_view key) const;
  static uint64_t hash(std::string_view key);

 private:
  struct Slot {
    uint64_t hash = 0;  ///< 0: empty (hashes are forced odd)
    uint32_t offset = 0, length = 0;
    int32_t value = -1;
  };
  std::vector<Slot> slots_;
  std::string arena_;
  size_t mask_ = 0;
};

/// Read-only open-addressing map from a pair of ids to (rank, merged id).
class PairMap {
 public:
  struct Value {
    int32_t rank, id;
  };
  void build(const std::unordered_map<uint64_t, std::pair<int32_t, int32_t>>& entries);
  /// The merge of (left, right), or nullptr.
  const Value* find(int32_t left, int32_t right) const {
    if (slots_.empty()) return nullptr;
    const uint64_t key = pair_key(left, right);
    for (size_t i = mix(key) & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.key == key) return &s.value;
      if (s.key == kEmpty) return nullptr;
    }
  }
  static uint64_t pair_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};  ///< ids are >= 0, so no pair has this key
  static size_t mix(uint64_t k) { return static_cast<size_t>((k * 0x9E3779B97F4A7C15ull) >> 32); }
  struct Slot {
    uint64_t key = kEmpty;
    Value value{0, 0};
  };
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

// ---- bpe.cpp -----------------------------------------------------------------

/// Byte-level BPE model: vocabulary, merge ranks, ignore_merges. Words are
/// merged from their raw bytes: a byte-level word's chars are its bytes, one
/// each, so the byte -> char mapping never has to be built per word.
struct Bpe {
  std::unordered_map<std::string, int32_t> vocab;  ///< as in tokenizer.json (mapped chars)
  /// (left id << 32 | right id) -> (rank, merged id), as loaded; prepare()
  /// moves them into merge_map and empties this.
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges;
  bool ignore_merges = false;
  int32_t unk_id = -1;  ///< -1: chars missing from the vocabulary are dropped (as HF)

  /// Builds the lookup tables below from vocab and merges; call once after loading.
  void prepare();

  /// Appends the ids of one pre-token given as raw bytes (before the
  /// byte-level mapping). `scratch` is reused between calls.
  struct Scratch;
  void encode_bytes(std::string_view raw, std::vector<int32_t>& out, Scratch& scratch) const;

  /// Merges `symbols` in place: the lowest-ranked adjacent pair first, the
  /// leftmost on ties (HF's order). `heap`: the O(n log n) linked-list and
  /// priority-queue form used for long words; else the O(n^2) scan that is
  /// faster on short ones. Both give the same result (tested).
  void merge(std::vector<int32_t>& symbols, Scratch& scratch, bool heap) const;

  std::array<int32_t, 256> byte_ids{};  ///< id of each byte's mapped char, -1 if not in the vocabulary
  BytesMap raw_vocab;                   ///< raw bytes of each token made only of mapped chars -> id
  PairMap merge_map;
};

struct Bpe::Scratch {
  std::vector<int32_t> symbols, ranks, merged;
  struct Node {
    int32_t id, prev, next;
  };
  std::vector<Node> nodes;
  struct Candidate {
    int32_t rank, pos, id;
  };
  std::vector<Candidate> heap;
};

}  // namespace ntks::tokenizer::detail
