// The BPE merge loop. Pair counts are kept up to date incrementally: a merge
// touches only the words that hold its pair (pair -> words index) and changes
// only the counts of the pairs around each occurrence. The most frequent pair
// comes from a max-heap with lazy deletion: counts of pairs that do not hold
// the new token only go down, so an entry whose count is stale is re-pushed
// with its current count when it reaches the top; a pair whose count goes up
// (one holding the new token) gets a fresh entry.
//
// Ties go to the pair whose merged bytes, then left token bytes, sort first:
// a property of the text alone, not of ids, hash order or thread count.

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "ntks/log/log.h"
#include "ntks/log/progress.h"
#include "ntks/tokenizer/bpe_trainer.h"
#include "ntks/util/error.h"
#include "tokenizer/parts.h"

namespace ntks::tokenizer {
namespace {

uint64_t pair_key(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

// Bytewise comparison of a1 + a2 with b1 + b2, without building them.
int compare_joined(std::string_view a1, std::string_view a2, std::string_view b1, std::string_view b2) {
  const size_t na = a1.size() + a2.size(), nb = b1.size() + b2.size();
  for (size_t i = 0; i < std::min(na, nb); ++i) {
    const auto ca = static_cast<unsigned char>(i < a1.size() ? a1[i] : a2[i - a1.size()]);
    const auto cb = static_cast<unsigned char>(i < b1.size() ? b1[i] : b2[i - b1.size()]);
    if (ca != cb) return ca < cb ? -1 : 1;
  }
  return na < nb ? -1 : (na > nb ? 1 : 0);
}

struct Trainer {
  // Words back to back in `symbols`: word w is symbols[begin[w], begin[w] + size[w]).
  std::vector<int32_t> symbols;
  std::vector<size_t> begin;
  std::vector<uint32_t> size;
  std::vector<int64_t> freq;

  // Pairs by index: ids, count over all words, the words that held it (may
  // include words that no longer do).
  std::unordered_map<uint64_t, size_t> pair_index;
  std::vector<int32_t> left, right;
  std::vector<int64_t> count;
  std::vector<std::vector<int32_t>> where;

  std::vector<std::string> tokens;  ///< bytes of each id
  std::unordered_map<std::string, int32_t> token_ids;

  struct Entry {
    int64_t count;
    size_t pair;
  };
  std::vector<Entry> heap;

  std::vector<size_t> raised;  ///< pairs whose count went up in the current merge
  std::vector<char> is_raised;

  size_t pair_of(int32_t a, int32_t b) {
    const auto [it, fresh] = pair_index.emplace(pair_key(a, b), left.size());
    if (fresh) {
      left.push_back(a);
      right.push_back(b);
      count.push_back(0);
      where.emplace_back();
      is_raised.push_back(0);
    }
    return it->second;
  }

  void change(int32_t a, int32_t b, int64_t delta, int32_t word) {
    const size_t p = pair_of(a, b);
    count[p] += delta;
    if (delta <= 0) return;
    if (where[p].empty() || where[p].back() != word) where[p].push_back(word);
    if (!is_raised[p]) {
      is_raised[p] = 1;
      raised.push_back(p);
    }
  }

  // True when heap entry x ranks below y: fewer occurrences, or as many and y
  // wins the tie.
  bool below(const Entry& x, const Entry& y) const {
    if (x.count != y.count) return x.count < y.count;
    const std::string &xl = tokens[static_cast<size_t>(left[x.pair])], &xr = tokens[static_cast<size_t>(right[x.pair])];
    const std::string &yl = tokens[static_cast<size_t>(left[y.pair])], &yr = tokens[static_cast<size_t>(right[y.pair])];
    const int c = compare_joined(xl, xr, yl, yr);
    return c != 0 ? c > 0 : xl.compare(yl) > 0;
  }

  void push(int64_t n, size_t pair) {
    heap.push_back({n, pair});
    std::push_heap(heap.begin(), heap.end(), [this](const Entry& x, const Entry& y) { return below(x, y); });
  }

  /// The most frequent pair and its count; count 0 when no pair is left.
  std::pair<size_t, int64_t> pop_best() {
    const auto cmp = [this](const Entry& x, const Entry& y) { return below(x, y); };
    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end(), cmp);
      const Entry top = heap.back();
      heap.pop_back();
      const int64_t now = count[top.pair];
      if (top.count == now) return {top.pair, now};
      if (top.count > now && now > 0) push(now, top.pair);
      // top.count < now: the pair was pushed again when it went up.
    }
    return {0, 0};
  }

  void load(const WordCounts& counts, const std::array<int32_t, 256>& byte_id) {
    size_t total = 0;
    for (const auto& [word, n] : counts.words) total += word.size();
    symbols.reserve(total);
    for (const auto& [word, n] : counts.words) {
      begin.push_back(symbols.size());
      size.push_back(static_cast<uint32_t>(word.size()));
      freq.push_back(n);
      for (char c : word) symbols.push_back(byte_id[static_cast<unsigned char>(c)]);
    }
    for (size_t w = 0; w < begin.size(); ++w) {
      const int32_t* s = &symbols[begin[w]];
      for (size_t i = 0; i + 1 < size[w]; ++i) change(s[i], s[i + 1], freq[w], static_cast<int32_t>(w));
    }
    for (size_t p : raised) {
      is_raised[p] = 0;
      heap.push_back({count[p], p});
    }
    raised.clear();
    std::make_heap(heap.begin(), heap.end(), [this](const Entry& x, const Entry& y) { return below(x, y); });
  }

  /// Replaces every (a, b) in the words that hold it by c, left to right, and
  /// updates the counts of the pairs around each occurrence.
  void apply(size_t pair, int32_t c) {
    const int32_t a = left[pair], b = right[pair];
    std::vector<int32_t> words = std::move(where[pair]);
    where[pair] = {};
    std::sort(words.begin(), words.end());
    words.erase(std::unique(words.begin(), words.end()), words.end());
    for (int32_t w : words) {
      int32_t* s = &symbols[begin[static_cast<size_t>(w)]];
      const size_t n = size[static_cast<size_t>(w)];
      const int64_t f = freq[static_cast<size_t>(w)];
      size_t out = 0;
      for (size_t i = 0; i < n;) {
        if (i + 1 < n && s[i] == a && s[i + 1] == b) {
          // s[out - 1] is already merged and s[i + 2] not yet, as the
          // pairs around this occurrence were counted.
          if (out > 0) {
            change(s[out - 1], a, -f, w);
            change(s[out - 1], c, f, w);
          }
          if (i + 2 < n) {
            change(b, s[i + 2], -f, w);
            change(c, s[i + 2], f, w);
          }
          change(a, b, -f, w);
          s[out++] = c;
          i += 2;
        } else {
          s[out++] = s[i++];
        }
      }
      size[static_cast<size_t>(w)] = static_cast<uint32_t>(out);
    }
    NTKS_CHECK(count[pair] == 0, "pair ({}, {}) still counted {} times after its merge", a, b, count[pair]);
    for (size_t p : raised) {
      is_raised[p] = 0;
      if (count[p] > 0) push(count[p], p);
    }
    raised.clear();
  }
};

// Ids 0-255: the bytes in the code point order of their byte-level chars
// (GPT-2's and Qwen3's order).
std::array<int32_t, 256> byte_alphabet(std::vector<std::string>& tokens) {
  std::vector<std::pair<char32_t, int>> order;
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    size_t len = 0;
    order.emplace_back(detail::code_point(detail::bytes_to_unicode(std::string_view(&c, 1)), 0, &len), b);
  }
  std::sort(order.begin(), order.end());
  std::array<int32_t, 256> byte_id{};
  for (const auto& [cp, b] : order) {
    byte_id[static_cast<size_t>(b)] = static_cast<int32_t>(tokens.size());
    tokens.emplace_back(1, static_cast<char>(b));
  }
  return byte_id;
}

}  // namespace

BpeModel train_bpe(const WordCounts& counts, const BpeTrainerOptions& options) {
  const auto added = static_cast<int32_t>(trainer_added_tokens().size());
  if (options.vocab_size < 256 + added)
    throw UsageError(fmt::format("--vocab-size {} is below the {} ids every tokenizer has (256 byte-level chars and "
                                 "{} added tokens)", options.vocab_size, 256 + added, added));
  if (counts.words.empty()) throw InputError("no text to train on: the corpus has no pre-tokens");
  BpeModel model;
  model.pattern = options.pattern;
  model.model_max_length = options.model_max_length;
  Trainer t;
  const std::array<int32_t, 256> byte_id = byte_alphabet(t.tokens);
  for (size_t id = 0; id < t.tokens.size(); ++id) t.token_ids.emplace(t.tokens[id], static_cast<int32_t>(id));
  t.load(counts, byte_id);

  const auto target = static_cast<size_t>(options.vocab_size - added);
  log::ProgressOptions po;
  po.unit = "merges";
  log::Progress progress("merge", static_cast<int64_t>(target - t.tokens.size()), po);
  std::unordered_set<uint64_t> merged;
  while (t.tokens.size() < target) {
    const auto [pair, n] = t.pop_best();
    if (n == 0 || n < options.min_frequency) break;
    const int32_t a = t.left[pair], b = t.right[pair];
    // Two merges can spell the same bytes ("ab"+"c", "a"+"bc"): they share
    // the token, as in HF's trainer, so tokenizer.json maps each string once.
    const std::string bytes = t.tokens[static_cast<size_t>(a)] + t.tokens[static_cast<size_t>(b)];
    const auto [it, fresh] = t.token_ids.emplace(bytes, static_cast<int32_t>(t.tokens.size()));
    if (fresh) {
      t.tokens.push_back(bytes);
      progress.advance();
    }
    // A shared token can bring back a pair merged before: merged again in
    // the words, but listed once (a repeated merge line would take different
    // ranks in different loaders).
    if (merged.insert(pair_key(a, b)).second) model.merges.emplace_back(a, b);
    t.apply(pair, it->second);
  }
  progress.finish();
  model.tokens = std::move(t.tokens);
  if (model.tokens.size() < target && !options.allow_smaller) {
    throw InputError(fmt::format(
        "the corpus is too small for --vocab-size {}: only {} merges have pairs seen at least {} times, giving a "
        "vocabulary of {} (256 byte-level chars, {} merged tokens, {} added tokens); add text, lower --vocab-size or "
        "--min-frequency, or pass --allow-smaller to keep the smaller vocabulary",
        options.vocab_size, model.merges.size(), options.min_frequency, model.vocab_size(),
        model.tokens.size() - 256, added));
  }
  if (model.tokens.size() < target)
    log::warn0("the corpus ran out of pairs seen at least {} times: vocabulary {} instead of {}",
               options.min_frequency, model.vocab_size(), options.vocab_size);
  return model;
}

}  // namespace ntks::tokenizer
