#include "ntks/train/plan.h"

#include <algorithm>
#include <numeric>

#include "ntks/util/error.h"

namespace ntks::train {

int64_t steps_per_epoch(int64_t samples, int64_t step_samples) {
  NTKS_CHECK(samples >= 0 && step_samples > 0, "samples {} / step samples {}", samples, step_samples);
  return (samples + step_samples - 1) / step_samples;
}

uint64_t mix_seed(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

std::vector<size_t> epoch_order(size_t n, uint64_t seed, int64_t epoch) {
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  uint64_t state = mix_seed(seed ^ mix_seed(static_cast<uint64_t>(epoch) + 1));
  for (size_t i = n; i > 1; --i) {
    state = mix_seed(state);
    // Multiply-shift maps the 64-bit draw to [0, i) without a modulo's bias
    // worth mentioning at these sizes.
    const auto j = static_cast<size_t>((static_cast<unsigned __int128>(state) * i) >> 64);
    std::swap(order[i - 1], order[j]);
  }
  return order;
}

std::vector<std::vector<size_t>> step_micro_batches(const std::vector<size_t>& step_samples,
                                                    const std::vector<int64_t>& lengths, int64_t batch_size) {
  NTKS_CHECK(batch_size > 0, "batch size {}", batch_size);
  std::vector<size_t> sorted = step_samples;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [&](size_t a, size_t b) { return lengths.at(a) > lengths.at(b); });
  std::vector<std::vector<size_t>> batches;
  for (size_t i = 0; i < sorted.size(); i += static_cast<size_t>(batch_size)) {
    const size_t end = std::min(sorted.size(), i + static_cast<size_t>(batch_size));
    batches.emplace_back(sorted.begin() + static_cast<std::ptrdiff_t>(i),
                         sorted.begin() + static_cast<std::ptrdiff_t>(end));
  }
  return batches;
}

std::vector<size_t> rank_share(const std::vector<std::vector<size_t>>& micro, const std::vector<int64_t>& lengths,
                               int rank, int size) {
  NTKS_CHECK(size > 0 && rank >= 0 && rank < size, "rank {} of {}", rank, size);
  std::vector<int64_t> load(static_cast<size_t>(size), 0);
  std::vector<size_t> mine;
  for (size_t m = 0; m < micro.size(); ++m) {
    int64_t longest = 0;
    for (size_t i : micro[m]) longest = std::max(longest, lengths.at(i));
    const auto least = static_cast<size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    load[least] += longest * static_cast<int64_t>(micro[m].size());
    if (least == static_cast<size_t>(rank)) mine.push_back(m);
  }
  return mine;
}

}  // namespace ntks::train
