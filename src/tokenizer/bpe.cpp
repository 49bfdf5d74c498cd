// BPE merging of one pre-token: start from its chars (for byte-level BPE, its
// bytes) and repeatedly merge the adjacent pair with the lowest merge rank,
// leftmost first, which is the order HF's priority queue (rank, position)
// produces.

#include <algorithm>
#include <limits>

#include "tokenizer/parts.h"

namespace ntks::tokenizer::detail {
namespace {

constexpr int32_t kNoRank = std::numeric_limits<int32_t>::max();

// Words up to this many symbols take the quadratic scan: on short words it
// beats the heap (no allocation, everything in a few cache lines).
constexpr size_t kHeapFrom = 48;

// Removes v[i] from the first `len` elements of v (the rest is unused space).
void erase_at(std::vector<int32_t>& v, size_t i, size_t len) {
  std::copy(v.begin() + static_cast<std::ptrdiff_t>(i) + 1, v.begin() + static_cast<std::ptrdiff_t>(len),
            v.begin() + static_cast<std::ptrdiff_t>(i));
}

}  // namespace

void Bpe::prepare() {
  std::vector<std::pair<std::string, int32_t>> raw;
  raw.reserve(vocab.size());
  std::string bytes;
  for (const auto& [tok, id] : vocab)
    if (unicode_to_bytes_exact(tok, bytes)) raw.emplace_back(bytes, id);
  // Smallest id first, so that when two tokens map to the same bytes the
  // lookup is deterministic.
  std::sort(raw.begin(), raw.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  raw_vocab.build(raw);
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    auto it = vocab.find(bytes_to_unicode(std::string_view(&c, 1)));
    byte_ids[static_cast<size_t>(b)] = it == vocab.end() ? -1 : it->second;
  }
  merge_map.build(merges);
  merges = {};  // merge_map holds them now; this map is 10 MB for a 150k-merge vocabulary
}

void Bpe::merge(std::vector<int32_t>& sym, Scratch& s, bool heap) const {
  const size_t n = sym.size();
  if (n < 2) return;
  if (!heap) {
    // ranks[i] / merged[i]: the merge of (sym[i], sym[i + 1]), kept up to date
    // so that each step costs one scan and two lookups.
    std::vector<int32_t>& ranks = s.ranks;
    std::vector<int32_t>& merged = s.merged;
    ranks.resize(n - 1);
    merged.resize(n - 1);
    auto set_pair = [&](size_t i) {
      const PairMap::Value* m = merge_map.find(sym[i], sym[i + 1]);
      ranks[i] = m ? m->rank : kNoRank;
      merged[i] = m ? m->id : -1;
    };
    for (size_t i = 0; i + 1 < n; ++i) set_pair(i);
    size_t len = n;
    while (len > 1) {
      size_t best = 0;
      for (size_t i = 1; i + 1 < len; ++i)
        if (ranks[i] < ranks[best]) best = i;
      if (ranks[best] == kNoRank) break;
      sym[best] = merged[best];
      erase_at(sym, best + 1, len);
      erase_at(ranks, best, len - 1);
      erase_at(merged, best, len - 1);
      --len;
      if (best > 0) set_pair(best - 1);
      if (best + 1 < len) set_pair(best);
    }
    sym.resize(len);
    return;
  }
  // Linked list of symbols and a min-heap of candidate merges (rank, left
  // position); an entry is stale when its left symbol is gone or the pair at
  // its position no longer merges into the same id.
  auto& nodes = s.nodes;
  nodes.resize(n);
  for (size_t i = 0; i < n; ++i)
    nodes[i] = {sym[i], static_cast<int32_t>(i) - 1, i + 1 < n ? static_cast<int32_t>(i) + 1 : -1};
  auto& heap_v = s.heap;
  heap_v.clear();
  auto later = [](const Scratch::Candidate& a, const Scratch::Candidate& b) {
    return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
  };
  auto push = [&](int32_t pos) {
    const Scratch::Node& left = nodes[static_cast<size_t>(pos)];
    if (left.next < 0) return;
    if (const PairMap::Value* m = merge_map.find(left.id, nodes[static_cast<size_t>(left.next)].id)) {
      heap_v.push_back({m->rank, pos, m->id});
      std::push_heap(heap_v.begin(), heap_v.end(), later);
    }
  };
  for (size_t i = 0; i + 1 < n; ++i) push(static_cast<int32_t>(i));
  constexpr int32_t kGone = -1;
  while (!heap_v.empty()) {
    std::pop_heap(heap_v.begin(), heap_v.end(), later);
    const Scratch::Candidate top = heap_v.back();
    heap_v.pop_back();
    Scratch::Node& left = nodes[static_cast<size_t>(top.pos)];
    if (left.id == kGone || left.next < 0) continue;
    Scratch::Node& right = nodes[static_cast<size_t>(left.next)];
    const PairMap::Value* m = merge_map.find(left.id, right.id);
    if (!m || m->id != top.id) continue;
    left.id = top.id;
    right.id = kGone;
    left.next = right.next;
    if (right.next >= 0) nodes[static_cast<size_t>(right.next)].prev = top.pos;
    if (left.prev >= 0) push(left.prev);
    push(top.pos);
  }
  size_t len = 0;
  for (int32_t i = 0; i >= 0; i = nodes[static_cast<size_t>(i)].next) sym[len++] = nodes[static_cast<size_t>(i)].id;
  sym.resize(len);
}

void Bpe::encode_bytes(std::string_view raw, std::vector<int32_t>& out, Scratch& s) const {
  if (ignore_merges) {
    const int32_t id = raw_vocab.find(raw);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }
  std::vector<int32_t>& sym = s.symbols;
  sym.clear();
  for (char c : raw) {
    const int32_t id = byte_ids[static_cast<unsigned char>(c)];
    if (id >= 0) {
      sym.push_back(id);
    } else if (unk_id >= 0) {
      sym.push_back(unk_id);
    }
  }
  merge(sym, s, sym.size() >= kHeapFrom);
  out.insert(out.end(), sym.begin(), sym.end());
}

}  // namespace ntks::tokenizer::detail
