// GPT-2's reversible byte <-> printable-char table used by ByteLevel
// pre-tokenizers and decoders: printable Latin-1 bytes map to themselves, the
// others to U+0100 upwards in byte order.

#include <array>
#include <unordered_map>

#include "tokenizer/parts.h"

namespace ntks::tokenizer::detail {
namespace {

std::string encode_utf8(char32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

struct Table {
  std::array<std::string, 256> to_char;
  std::unordered_map<std::string, unsigned char> to_byte;
  Table() {
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      to_char[b] = encode_utf8(printable ? static_cast<char32_t>(b) : next++);
      to_byte.emplace(to_char[b], static_cast<unsigned char>(b));
    }
  }
};

const Table& table() {
  static const Table t;
  return t;
}

}  // namespace

std::string bytes_to_unicode(std::string_view bytes) {
  const Table& t = table();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) out += t.to_char[static_cast<unsigned char>(c)];
  return out;
}

bool unicode_to_bytes_exact(std::string_view token, std::string& bytes) {
  const Table& t = table();
  bytes.clear();
  for (size_t pos = 0; pos < token.size();) {
    const size_t n = utf8_length(static_cast<unsigned char>(token[pos]));
    auto it = t.to_byte.find(std::string(token.substr(pos, n)));
    if (it == t.to_byte.end()) return false;
    bytes += static_cast<char>(it->second);
    pos += n;
  }
  return true;
}

std::string unicode_to_bytes(std::string_view token) {
  std::string out;
  return unicode_to_bytes_exact(token, out) ? out : std::string(token);
}

}  // namespace ntks::tokenizer::detail
