// The encode/decode pipeline of Tokenizer (see the header for its stages).

#include "ntks/util/error.h"
#include "tokenizer/impl.h"

namespace ntks::tokenizer {
namespace {

struct Span {
  size_t start, end;
  int32_t id;  ///< -1: ordinary text
};

// Code point at `pos` of valid UTF-8 and its length.
char32_t code_point(std::string_view s, size_t pos, size_t* len) {
  const auto b0 = static_cast<unsigned char>(s[pos]);
  *len = detail::utf8_length(b0);
  if (*len == 1) return b0;
  char32_t cp = b0 & (0x7F >> *len);
  for (size_t i = 1; i < *len; ++i) cp = (cp << 6) | (static_cast<unsigned char>(s[pos + i]) & 0x3F);
  return cp;
}

// Rust's char::is_whitespace (Unicode White_Space).
bool is_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// A word char for single_word: ASCII alphanumerics, '_' and anything non-ASCII
// that is not whitespace (close to Rust's is_alphanumeric for scripts in use).
bool is_word_char(char32_t c) {
  if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  return !is_space(c);
}

char32_t code_point_before(std::string_view s, size_t pos, size_t* len) {
  size_t p = pos - 1;
  while (p > 0 && (static_cast<unsigned char>(s[p]) & 0xC0) == 0x80) --p;
  *len = pos - p;
  size_t l;
  return code_point(s, p, &l);
}

// Cuts `text` at the added tokens of `set`: leftmost-longest matches, then
// single_word filtering and lstrip/rstrip widening, as HF's AddedVocabulary.
std::vector<Span> split_added(std::string_view text, const AddedTokenSet& set) {
  std::vector<Span> out;
  size_t pos = 0, text_start = 0;
  while (pos < text.size() && !set.empty) {
    const AddedToken* hit = nullptr;
    for (const AddedToken* a : set.by_first_byte[static_cast<unsigned char>(text[pos])]) {
      if (text.compare(pos, a->content.size(), a->content) == 0) {
        hit = a;
        break;
      }
    }
    if (!hit) {
      ++pos;
      continue;
    }
    size_t start = pos, stop = pos + hit->content.size(), len = 0;
    pos = stop;
    if (hit->single_word) {
      const bool left_ok = start == 0 || !is_word_char(code_point_before(text, start, &len));
      const bool right_ok = stop == text.size() || !is_word_char(code_point(text, stop, &len));
      if (!left_ok || !right_ok) continue;
    }
    if (hit->lstrip)
      while (start > text_start && is_space(code_point_before(text, start, &len))) start -= len;
    if (hit->rstrip)
      while (stop < text.size() && is_space(code_point(text, stop, &len))) stop += len;
    if (start > text_start) out.push_back({text_start, start, -1});
    out.push_back({start, stop, hit->id});
    text_start = pos = stop;
  }
  if (text_start < text.size()) out.push_back({text_start, text.size(), -1});
  return out;
}

}  // namespace

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

namespace {

// Pre-tokenizes normalized text and appends the BPE ids of its pre-tokens.
void encode_plain(const Tokenizer::Impl& t, std::string_view text, std::vector<int32_t>& out) {
  std::vector<std::string_view> pieces{text}, next;
  for (const auto& split : t.splits) {
    next.clear();
    for (std::string_view p : pieces) split.split(p, next);
    pieces.swap(next);
  }
  std::vector<std::string_view> words;
  for (std::string_view p : pieces) {
    std::string prefixed;
    if (t.prefix_space && p.front() != ' ') {
      prefixed = " " + std::string(p);
      p = prefixed;
    }
    words.clear();
    if (t.byte_level_regex) {
      t.byte_level_regex->split(p, words);
    } else {
      words.push_back(p);
    }
    for (std::string_view w : words) {
      const std::string mapped = detail::bytes_to_unicode(w);
      constexpr size_t kMaxCachedBytes = 256, kMaxCacheEntries = 1 << 18;
      if (mapped.size() > kMaxCachedBytes) {
        t.bpe.encode_word(mapped, out);
        continue;
      }
      {
        std::lock_guard<std::mutex> lock(t.cache_mutex);
        auto it = t.cache.find(mapped);
        if (it != t.cache.end()) {
          out.insert(out.end(), it->second.begin(), it->second.end());
          continue;
        }
      }
      std::vector<int32_t> ids;
      t.bpe.encode_word(mapped, ids);
      out.insert(out.end(), ids.begin(), ids.end());
      std::lock_guard<std::mutex> lock(t.cache_mutex);
      if (t.cache.size() >= kMaxCacheEntries) t.cache.clear();
      t.cache.emplace(mapped, std::move(ids));
    }
  }
}

}  // namespace

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  const Impl& t = *impl_;
  const size_t bad = detail::find_invalid_utf8(text);
  if (bad != std::string_view::npos)
    throw InputError(fmt::format("text is not valid UTF-8 (byte {} of {})", bad, text.size()));
  std::vector<int32_t> ids;
  for (const Span& raw : split_added(text, t.raw_added)) {
    if (raw.id >= 0) {
      ids.push_back(raw.id);
      continue;
    }
    const std::string normalized =
        t.nfc ? detail::nfc(text.substr(raw.start, raw.end - raw.start)) : std::string(text.substr(raw.start, raw.end - raw.start));
    for (const Span& s : split_added(normalized, t.normalized_added)) {
      if (s.id >= 0) {
        ids.push_back(s.id);
      } else {
        encode_plain(t, std::string_view(normalized).substr(s.start, s.end - s.start), ids);
      }
    }
  }
  if (!add_special_tokens) return ids;
  for (const auto& items : t.templates) {
    std::vector<int32_t> with;
    for (const TemplateItem& item : items) {
      if (item.is_sequence) {
        with.insert(with.end(), ids.begin(), ids.end());
      } else {
        with.insert(with.end(), item.ids.begin(), item.ids.end());
      }
    }
    ids.swap(with);
  }
  return ids;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  std::string bytes;
  for (int32_t id : ids) {
    const std::string& tok = token(id);
    if (skip_special_tokens && impl_->is_special[static_cast<size_t>(id)]) continue;
    bytes += detail::unicode_to_bytes(tok);
  }
  return detail::utf8_lossy(bytes);
}

int32_t Tokenizer::token_id(std::string_view token) const {
  const std::string key(token);
  if (auto it = impl_->added_ids.find(key); it != impl_->added_ids.end()) return it->second;
  if (auto it = impl_->bpe.vocab.find(key); it != impl_->bpe.vocab.end()) return it->second;
  return -1;
}

const std::string& Tokenizer::token(int32_t id) const {
  if (id < 0 || id >= vocab_size())
    throw InputError(fmt::format("{}: token id {} is not in [0, {})", impl_->source, id, vocab_size()));
  return impl_->id_to_token[static_cast<size_t>(id)];
}

int32_t Tokenizer::vocab_size() const { return static_cast<int32_t>(impl_->id_to_token.size()); }

}  // namespace ntks::tokenizer
