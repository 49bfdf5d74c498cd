#include "ntks/select/shuffle.h"

#include "ntks/util/error.h"

namespace ntks::select {

std::uint64_t SplitMix64::next() {
  std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::uint64_t SplitMix64::below(std::uint64_t n) {
  NTKS_CHECK(n >= 1, "below({})", n);
  // 2^64 mod n without 128-bit arithmetic: (2^64 - n) mod n.
  const std::uint64_t rest = (0 - n) % n;
  for (;;) {
    const std::uint64_t x = next();
    if (x <= ~std::uint64_t{0} - rest) return x % n;  // x < 2^64 - rest
  }
}

}  // namespace ntks::select
