// Python's str.strip family on UTF-8, as Jinja2 (which HF transformers' chat
// templates run on) evaluates `| trim` and `.lstrip('\n')`. Python's
// whitespace set differs from JavaScript's trim() (it includes U+001C..U+001F
// and U+0085 but not U+FEFF), so @huggingface/jinja is not the reference here.

#include "data/chat_render.h"

namespace ntks::data::detail {
namespace {

// Code points for which Python's str.isspace() is true.
bool is_py_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// The code point of the UTF-8 sequence s[pos, pos+len), or U+FFFD when it is
// not one (invalid bytes never count as whitespace).
char32_t decode(std::string_view s, size_t pos, size_t len) {
  const auto b0 = static_cast<unsigned char>(s[pos]);
  if (len == 1) return b0 < 0x80 ? b0 : 0xFFFD;
  char32_t cp = b0 & (0x7F >> len);
  for (size_t i = 1; i < len; ++i) {
    const auto b = static_cast<unsigned char>(s[pos + i]);
    if ((b & 0xC0) != 0x80) return 0xFFFD;
    cp = (cp << 6) | (b & 0x3F);
  }
  return cp;
}

size_t lead_length(unsigned char b) {
  if (b >= 0xF0 && b < 0xF8) return 4;
  if (b >= 0xE0) return b < 0xF0 ? 3 : 1;
  if (b >= 0xC0) return 2;
  return 1;
}

}  // namespace

std::string_view py_strip(std::string_view s) {
  size_t begin = 0, end = s.size();
  while (begin < end) {
    const size_t len = lead_length(static_cast<unsigned char>(s[begin]));
    if (begin + len > end || !is_py_space(decode(s, begin, len))) break;
    begin += len;
  }
  while (end > begin) {
    size_t start = end - 1;
    while (start > begin && end - start < 4 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    if (lead_length(static_cast<unsigned char>(s[start])) != end - start || !is_py_space(decode(s, start, end - start)))
      break;
    end = start;
  }
  return s.substr(begin, end - begin);
}

std::string_view py_strip_chars(std::string_view s, std::string_view chars, bool left, bool right) {
  size_t begin = 0, end = s.size();
  if (left)
    while (begin < end && chars.find(s[begin]) != std::string_view::npos) ++begin;
  if (right)
    while (end > begin && chars.find(s[end - 1]) != std::string_view::npos) --end;
  return s.substr(begin, end - begin);
}

}  // namespace ntks::data::detail
