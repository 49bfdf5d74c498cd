#pragma once
// The training mixture D ∪ S (DESIGN §2 step 6): the domain lines and the
// selected lines in one list, shuffled by portable_shuffle (shuffle.h) with
// run.seed, so the same seed gives the same file with any compiler, library
// and rank count.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ntks::select {

/// One line of the mixture: the `position`-th domain line or selected line.
struct MixtureItem {
  bool domain = false;
  std::size_t position = 0;
  bool operator==(const MixtureItem& o) const { return domain == o.domain && position == o.position; }
};

/// Domain lines 0..domain-1, then selected lines 0..selected-1 (in rank
/// order), shuffled with portable_shuffle(items, seed).
std::vector<MixtureItem> mixture_order(std::size_t domain, std::size_t selected, std::uint64_t seed);

}  // namespace ntks::select
