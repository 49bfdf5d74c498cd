#pragma once
// A portable seeded shuffle: the same permutation for a seed with every
// compiler and standard library (std::shuffle and std::uniform_int_distribution
// are implementation-defined, so their output changes between libstdc++ and
// libc++).
//
//   generator  splitmix64: state += 0x9E3779B97F4A7C15; z = state;
//              z = (z ^ z >> 30) * 0xBF58476D1CE4E5B9; z = (z ^ z >> 27) * 0x94D049BB133111EB;
//              next = z ^ z >> 31                       (state starts at the seed)
//   below(n)   draws x = next() until x < 2^64 - (2^64 mod n), returns x mod n (unbiased)
//   shuffle    Fisher–Yates from the back: for i = n-1 .. 1: swap(a[i], a[below(i+1)])

#include <cstdint>
#include <utility>
#include <vector>

namespace ntks::select {

class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next();
  /// Uniform in [0, n) by rejection; n >= 1.
  std::uint64_t below(std::uint64_t n);

 private:
  std::uint64_t state_;
};

/// Shuffles `items` in place with the Fisher–Yates loop above, seeded with `seed`.
template <class T>
void portable_shuffle(std::vector<T>& items, std::uint64_t seed) {
  SplitMix64 g(seed);
  for (std::size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[g.below(i)]);
}

}  // namespace ntks::select
