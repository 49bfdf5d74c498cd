// DSIR's words: Python's text.lower(), then re.findall(r"\w+|[^\w\s]+") (NLTK's
// WordPunctTokenizer), with Python's own tables (dsir_unicode.cpp).

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "ntks/select/dsir.h"
#include "select/dsir_unicode.h"

namespace ntks::select {

namespace {

using namespace dsir_detail;

constexpr char32_t kInvalid = 0xFFFFFFFF;  // a byte that is not valid UTF-8: its own "other" character

bool in(const CodeRange* table, std::size_t size, char32_t c) {
  const CodeRange* end = table + size;
  const CodeRange* r = std::upper_bound(table, end, c, [](char32_t v, const CodeRange& x) { return v < x.first; });
  return r != table && c <= (r - 1)->last;
}

bool is_word(char32_t c) {
  if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  return c != kInvalid && in(kWord, kWordSize, c);
}

bool is_space(char32_t c) { return c != kInvalid && in(kSpace, kSpaceSize, c); }
bool is_cased(char32_t c) { return c != kInvalid && in(kCased, kCasedSize, c); }
bool is_case_ignorable(char32_t c) { return c != kInvalid && in(kCaseIgnorable, kCaseIgnorableSize, c); }

char32_t simple_lower(char32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  if (c == kInvalid) return c;
  const LowerRun* end = kLower + kLowerSize;
  const LowerRun* r = std::upper_bound(kLower, end, c, [](char32_t v, const LowerRun& x) { return v < x.first; });
  if (r == kLower) return c;
  --r;
  if (c > r->last || (c - r->first) % static_cast<char32_t>(r->stride) != 0) return c;
  return static_cast<char32_t>(static_cast<std::int64_t>(c) + r->delta);
}

// One character of `text` at `pos`: its code point (kInvalid for a byte that
// does not start a well-formed sequence) and its byte length.
char32_t decode(std::string_view text, std::size_t pos, std::size_t* len) {
  const auto b = [&](std::size_t i) { return static_cast<unsigned char>(text[pos + i]); };
  const unsigned char lead = b(0);
  *len = 1;
  if (lead < 0x80) return lead;
  std::size_t n = 0;
  char32_t c = 0, min = 0;
  if (lead >= 0xC2 && lead <= 0xDF) n = 2, c = lead & 0x1F, min = 0x80;
  else if (lead >= 0xE0 && lead <= 0xEF) n = 3, c = lead & 0x0F, min = 0x800;
  else if (lead >= 0xF0 && lead <= 0xF4) n = 4, c = lead & 0x07, min = 0x10000;
  else return kInvalid;
  if (pos + n > text.size()) return kInvalid;
  for (std::size_t i = 1; i < n; ++i) {
    if ((b(i) & 0xC0) != 0x80) return kInvalid;
    c = (c << 6) | (b(i) & 0x3F);
  }
  if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return kInvalid;
  *len = n;
  return c;
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

// Python's rule for U+03A3 (unicodeobject.c, handle_capital_sigma): final
// sigma when a cased character comes before it and none after it, skipping
// case-ignorable ones on both sides.
bool final_sigma(const std::vector<char32_t>& cps, std::size_t i) {
  std::size_t j = i;
  while (j > 0 && is_case_ignorable(cps[j - 1])) --j;
  if (j == 0 || !is_cased(cps[j - 1])) return false;
  std::size_t k = i + 1;
  while (k < cps.size() && is_case_ignorable(cps[k])) ++k;
  return k == cps.size() || !is_cased(cps[k]);
}

enum class Kind { word, space, other };

Kind kind(char32_t c) { return is_word(c) ? Kind::word : is_space(c) ? Kind::space : Kind::other; }

}  // namespace

std::vector<std::string> dsir_words(std::string_view text) {
  // Code points, keeping the raw byte of every invalid one.
  std::vector<char32_t> cps;
  std::vector<unsigned char> raw;
  cps.reserve(text.size());
  raw.reserve(text.size());
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t len = 0;
    cps.push_back(decode(text, pos, &len));
    raw.push_back(static_cast<unsigned char>(text[pos]));
    pos += len;
  }
  // text.lower()
  std::vector<char32_t> low;
  std::vector<unsigned char> low_raw;
  low.reserve(cps.size());
  low_raw.reserve(cps.size());
  for (std::size_t i = 0; i < cps.size(); ++i) {
    const char32_t c = cps[i];
    if (c == 0x130) {  // the one lower-case mapping to two characters: "i" + COMBINING DOT ABOVE
      low.push_back('i');
      low.push_back(0x307);
      low_raw.insert(low_raw.end(), 2, 0);
    } else {
      low.push_back(c == 0x3A3 ? (final_sigma(cps, i) ? 0x3C2 : 0x3C3) : simple_lower(c));
      low_raw.push_back(raw[i]);
    }
  }
  // Maximal runs of word characters and of "other" characters.
  std::vector<std::string> words;
  std::string current;
  Kind current_kind = Kind::space;
  for (std::size_t i = 0; i <= low.size(); ++i) {
    const Kind k = i < low.size() ? kind(low[i]) : Kind::space;
    if (k != current_kind && !current.empty()) {
      words.push_back(std::move(current));
      current.clear();
    }
    current_kind = k;
    if (k == Kind::space) continue;
    if (low[i] == kInvalid)
      current += static_cast<char>(low_raw[i]);
    else
      append_utf8(current, low[i]);
  }
  return words;
}

}  // namespace ntks::select
