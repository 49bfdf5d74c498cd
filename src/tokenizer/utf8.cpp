// UTF-8 lead-byte lengths and NFC as Hugging Face's tokenizers compute it,
// through utf8proc (validity and repair are in ntks/util/utf8.h, shared with
// the corpus readers).

#include <utf8proc.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "ntks/util/error.h"
#include "tokenizer/nfc_hf.h"
#include "tokenizer/parts.h"

namespace ntks::tokenizer::detail {

size_t utf8_length(unsigned char lead) {
  if (lead >= 0xF0) return 4;
  if (lead >= 0xE0) return 3;
  if (lead >= 0xC0) return 2;
  return 1;
}

char32_t code_point(std::string_view text, size_t pos, size_t* len) {
  const auto b0 = static_cast<unsigned char>(text[pos]);
  *len = utf8_length(b0);
  if (*len == 1) return b0;
  char32_t cp = b0 & (0x7F >> *len);
  for (size_t i = 1; i < *len && pos + i < text.size(); ++i)
    cp = (cp << 6) | (static_cast<unsigned char>(text[pos + i]) & 0x3F);
  return cp;
}

bool nfc_inert(char32_t c) {
  // Below U+0300 nothing combines; the rest are whole blocks (or the parts of
  // blocks before their combining marks) that common text is made of.
  return c < 0x300 || (c >= 0x400 && c <= 0x482) || (c >= 0x48A && c <= 0x4FF) || (c >= 0x620 && c <= 0x64A) ||
         (c >= 0x2010 && c <= 0x2027) || (c >= 0x2030 && c <= 0x205E) || (c >= 0x20A0 && c <= 0x20C0) ||
         (c >= 0x3000 && c <= 0x3029) || (c >= 0x3041 && c <= 0x3096) || (c >= 0x30A1 && c <= 0x30FA) ||
         (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xAC00 && c <= 0xD7A3) || c == 0x200D ||
         (c >= 0xFE00 && c <= 0xFE0F) || (c >= 0xFF01 && c <= 0xFFEE) || (c >= 0x1F300 && c <= 0x1FAFF);
}

namespace {

// Appends utf8proc's NFC of `text` to `out` (no string in between: a stretch
// is often a single accented letter).
void append_utf8proc_nfc(std::string& out, std::string_view text) {
  utf8proc_uint8_t* dst = nullptr;
  const utf8proc_ssize_t n =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                   static_cast<utf8proc_ssize_t>(text.size()), &dst,
                   static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (n < 0) throw InputError(fmt::format("NFC normalization failed: {}", utf8proc_errmsg(n)));
  out.append(reinterpret_cast<const char*>(dst), static_cast<size_t>(n));
  std::free(dst);
}

// utf8proc's NFC of `text`, cut at the chars HF's NFC does not know (see
// nfc_hf.h), which are kept as they are: HF gives them class 0 and composes
// nothing with them, so its NFC of the text is that of the pieces between them
// joined by them. The pieces hold only chars whose properties HF and utf8proc
// agree on (tests/tokenizer/probe_nfc.js checks every code point), so
// utf8proc's NFC of a piece is HF's. utf8proc would reorder them by their new
// classes (U+07FD after U+0334), decompose U+11938 or compose U+11935 U+11930.
void append_nfc_hf(std::string& out, std::string_view text) {
  size_t from = 0;  // text[from, pos) is a piece of known chars
  for (size_t pos = 0, len = 0; pos < text.size(); pos += len) {
    if (!nfc_hf_unknown(code_point(text, pos, &len))) continue;
    if (pos > from) append_utf8proc_nfc(out, text.substr(from, pos - from));
    out.append(text.substr(pos, len));
    from = pos + len;
  }
  if (from < text.size()) append_utf8proc_nfc(out, text.substr(from));
}

// Appends the NFC of the stretch of `text` that starts at `start` (the last
// safe cut) and runs from the non-inert char at `pos` up to the next inert
// char; returns its end. Out of line, so nfc()'s loop over inert chars stays
// small. Inert chars are all known to HF (a unit test checks), so only a
// stretch that holds a char of nfc_hf_unknown() takes the cutting pass.
[[gnu::noinline]] size_t append_nfc_stretch(std::string& out, std::string_view text, size_t start, size_t pos) {
  size_t len = 0;
  char32_t c = code_point(text, pos, &len);
  bool unknown = nfc_hf_unknown(c);
  size_t end = pos + len;
  while (end < text.size() && static_cast<unsigned char>(text[end]) >= 0x80 &&
         !nfc_inert(c = code_point(text, end, &len))) {
    unknown |= nfc_hf_unknown(c);
    end += len;
  }
  if (unknown) {
    append_nfc_hf(out, text.substr(start, end - start));
  } else {
    append_utf8proc_nfc(out, text.substr(start, end - start));
  }
  return end;
}

}  // namespace

bool needs_nfc(std::string_view text) {
  for (size_t pos = 0, len = 0; pos < text.size(); pos += len) {
    if (static_cast<unsigned char>(text[pos]) < 0x80) {
      len = 1;
      continue;
    }
    if (!nfc_inert(code_point(text, pos, &len))) return true;
  }
  return false;
}

std::string nfc(std::string_view text) {
  // Right before an inert char NFC can cut the text (nothing reorders across
  // it or composes with it from the left), so only the stretches around
  // other chars go through utf8proc; most text has none (ASCII first of all).
  std::string out;
  out.reserve(text.size());
  size_t done = 0, cut = 0, len = 0;  // text[0, done) is in out; cut: the last safe cut
  for (size_t pos = 0; pos < text.size();) {
    if (static_cast<unsigned char>(text[pos]) < 0x80 || nfc_inert(code_point(text, pos, &len))) {
      cut = pos;
      pos += static_cast<unsigned char>(text[pos]) < 0x80 ? 1 : len;
      continue;
    }
    const size_t start = std::max(cut, done);
    out.append(text.substr(done, start - done));
    const size_t end = append_nfc_stretch(out, text, start, pos);
    done = cut = pos = end;
  }
  out.append(text.substr(done));
  return out;
}

}  // namespace ntks::tokenizer::detail
