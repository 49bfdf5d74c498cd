#pragma once
// The state of a loaded Tokenizer, shared by load.cpp (which fills it from
// tokenizer.json) and tokenizer.cpp (which runs the pipeline).

#include <array>
#include <optional>

#include "ntks/tokenizer/tokenizer.h"
#include "tokenizer/parts.h"

namespace ntks::tokenizer {

struct AddedToken {
  int32_t id = 0;
  std::string content;
  bool single_word = false;  ///< only matches with no word char on either side
  bool lstrip = false;       ///< swallows the whitespace before it
  bool rstrip = false;       ///< swallows the whitespace after it
  bool normalized = false;   ///< matched in the normalized text, not the raw text
  bool special = false;
};

/// Added tokens matched on one side of normalization, indexed by first byte,
/// longest first (leftmost-longest matching as HF's Aho-Corasick does).
struct AddedTokenSet {
  std::array<std::vector<const AddedToken*>, 256> by_first_byte;
  bool empty = true;
};

/// One element of TemplateProcessing's "single" list.
struct TemplateItem {
  bool is_sequence = false;    ///< the text's own ids
  std::vector<int32_t> ids;    ///< else: a special token's ids
};

struct Tokenizer::Impl {
  std::string source;
  std::vector<AddedToken> added;
  AddedTokenSet raw_added, normalized_added;
  bool nfc = false;
  std::vector<detail::RegexSplitter> splits;
  bool prefix_space = false;
  std::optional<detail::RegexSplitter> byte_level_regex;
  detail::Bpe bpe;
  std::vector<std::vector<TemplateItem>> templates;  ///< applied in order
  std::vector<std::string> id_to_token;
  std::vector<char> is_special;
  std::unordered_map<std::string, int32_t> added_ids;

  /// Names this tokenizer to the per-thread word caches (tokenizer.cpp);
  /// unique within the process, never reused.
  uint64_t instance = 0;
};

}  // namespace ntks::tokenizer
