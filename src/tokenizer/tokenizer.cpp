// The encode/decode pipeline of Tokenizer (see the header for its stages).

#include "ntks/util/error.h"
#include "ntks/util/utf8.h"
#include "tokenizer/impl.h"
#include "tokenizer/word_cache.h"

namespace ntks::tokenizer {
namespace {

struct Span {
  size_t start, end;
  int32_t id;  ///< -1: ordinary text
};

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
  return detail::code_point(s, p, &l);
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
      const bool right_ok = stop == text.size() || !is_word_char(detail::code_point(text, stop, &len));
      if (!left_ok || !right_ok) continue;
    }
    if (hit->lstrip)
      while (start > text_start && is_space(code_point_before(text, start, &len))) start -= len;
    if (hit->rstrip)
      while (stop < text.size() && is_space(detail::code_point(text, stop, &len))) stop += len;
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

// Everything encode() reuses between calls on one thread.
struct Scratch {
  std::vector<std::string_view> pieces, next, words;
  std::string prefixed;
  detail::Bpe::Scratch bpe;
  std::array<detail::WordCache, 4> caches;  ///< for the last tokenizers used on this thread
  size_t next_cache = 0;

  detail::WordCache& cache_for(uint64_t instance) {
    for (detail::WordCache& c : caches)
      if (c.owner == instance) return c;
    detail::WordCache& c = caches[next_cache++ % caches.size()];
    c.clear();
    c.owner = instance;
    return c;
  }
};

Scratch& thread_scratch() {
  thread_local Scratch s;
  return s;
}

// Longer words are rare (long runs of one script or of spaces) and not worth
// a cache entry.
constexpr size_t kMaxCachedBytes = 64;

void encode_word(const Tokenizer::Impl& t, std::string_view w, std::vector<int32_t>& out, Scratch& s,
                 detail::WordCache& cache) {
  const detail::Bpe& bpe = t.bpe;
  if (w.size() == 1) {  // one byte, one symbol: nothing to merge
    const int32_t id = bpe.byte_ids[static_cast<unsigned char>(w[0])];
    if (id >= 0) {
      out.push_back(id);
    } else if (bpe.unk_id >= 0) {
      out.push_back(bpe.unk_id);
    }
    return;
  }
  if (w.size() > kMaxCachedBytes) {
    bpe.encode_bytes(w, out, s.bpe);
    return;
  }
  if (bpe.ignore_merges) {  // a vocabulary word is one lookup, as cheap as the cache
    const int32_t id = bpe.raw_vocab.find(w);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }
  const uint64_t h = detail::BytesMap::hash(w);
  if (cache.append(w, h, out)) return;
  const size_t start = out.size();
  bpe.encode_bytes(w, out, s.bpe);
  cache.insert(w, h, out.data() + start, out.size() - start);
}

// Pre-tokenizes normalized text and appends the BPE ids of its pre-tokens.
// Words stay raw bytes: the byte-level mapping is folded into the BPE tables
// (Bpe::prepare).
void encode_plain(const Tokenizer::Impl& t, std::string_view text, std::vector<int32_t>& out, Scratch& s) {
  detail::WordCache& cache = s.cache_for(t.instance);
  s.pieces.clear();
  s.pieces.push_back(text);
  for (const auto& split : t.splits) {
    s.next.clear();
    for (std::string_view p : s.pieces) split.split(p, s.next);
    s.pieces.swap(s.next);
  }
  for (std::string_view p : s.pieces) {
    if (t.prefix_space && p.front() != ' ') {
      s.prefixed.assign(1, ' ');
      s.prefixed.append(p);
      p = s.prefixed;
    }
    if (!t.byte_level_regex) {
      encode_word(t, p, out, s, cache);
      continue;
    }
    s.words.clear();
    t.byte_level_regex->split(p, s.words);
    for (std::string_view w : s.words) encode_word(t, w, out, s, cache);
  }
}

}  // namespace

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  const Impl& t = *impl_;
  const size_t bad = find_invalid_utf8(text);
  if (bad != std::string_view::npos)
    throw InputError(fmt::format("text is not valid UTF-8 (byte {} of {})", bad, text.size()));
  Scratch& scratch = thread_scratch();
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 4);
  std::string normalized;
  for (const Span& raw : split_added(text, t.raw_added)) {
    if (raw.id >= 0) {
      ids.push_back(raw.id);
      continue;
    }
    std::string_view part = text.substr(raw.start, raw.end - raw.start);
    if (t.nfc && detail::needs_nfc(part)) {
      normalized = detail::nfc(part);
      part = normalized;
    }
    for (const Span& s : split_added(part, t.normalized_added)) {
      if (s.id >= 0) {
        ids.push_back(s.id);
      } else {
        encode_plain(t, part.substr(s.start, s.end - s.start), ids, scratch);
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
  return utf8_lossy(bytes);
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
