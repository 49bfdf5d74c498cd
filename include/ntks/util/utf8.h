#pragma once
// UTF-8 validity (Unicode's table 3-7: no overlongs, surrogates or code
// points past U+10FFFF) and lossy repair, shared by the tokenizer and the
// corpus readers.

#include <string>
#include <string_view>

namespace ntks {

/// Byte offset of the first byte that is not part of well-formed UTF-8, or
/// npos when `text` is valid.
size_t find_invalid_utf8(std::string_view text);

/// `bytes` with every maximal ill-formed subsequence replaced by U+FFFD (the
/// rule of Rust's String::from_utf8_lossy, which HF's decoders follow).
std::string utf8_lossy(std::string_view bytes);

}  // namespace ntks
