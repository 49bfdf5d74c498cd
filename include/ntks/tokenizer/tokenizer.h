#pragma once
// A Hugging Face `tokenizer.json` with a byte-level BPE model (GPT-2 style, as
// used by Llama-3 and Qwen3), encoding text to the same ids as HF's Rust
// `tokenizers` crate.
//
// Pipeline of encode(): added tokens are cut out first (leftmost-longest
// match; special ones too, as HF does by default), the rest is normalized
// (null / NFC / Sequence), pre-tokenized (Split regex, ByteLevel), each
// pre-token is BPE-merged, and when add_special_tokens is true the
// post-processor (TemplateProcessing) adds its special tokens. Anything else in
// a tokenizer.json is an InputError naming the file and the type.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ntks::tokenizer {

class Tokenizer {
 public:
  /// Reads and checks `path`; throws InputError naming the file and the
  /// offending key or type.
  static Tokenizer load(const std::string& path);
  /// Same from the JSON text itself; `source` names it in error messages.
  static Tokenizer from_json(std::string_view json_text, const std::string& source);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  /// Token ids of `text` (UTF-8; invalid UTF-8 throws InputError, callers add
  /// file:line). Thread-safe.
  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens = true) const;
  /// Text of `ids` (ByteLevel decoder); bytes that do not form UTF-8 become
  /// U+FFFD as in HF. Special tokens are kept unless `skip_special_tokens`.
  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens = false) const;
  /// Id of a vocabulary or added token, or -1 when there is none.
  int32_t token_id(std::string_view token) const;
  /// The token string of `id` (byte-level encoded for model tokens); throws
  /// InputError when `id` is out of range.
  const std::string& token(int32_t id) const;
  /// One past the largest id (model vocabulary and added tokens).
  int32_t vocab_size() const;

  /// Opaque state (src/tokenizer/impl.h).
  struct Impl;

 private:
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ntks::tokenizer
