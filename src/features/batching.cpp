#include "ntks/features/batching.h"

#include <algorithm>
#include <numeric>

#include "ntks/util/error.h"

namespace ntks::features {

std::vector<std::vector<size_t>> batches_by_tokens(const std::vector<int64_t>& lengths, int64_t token_budget,
                                                   int64_t max_rows, double max_padding) {
  NTKS_CHECK(token_budget > 0, "token budget {} must be positive", token_budget);
  NTKS_CHECK(max_padding >= 0 && max_padding <= 1, "padding limit {} must be in [0, 1]", max_padding);
  std::vector<size_t> order(lengths.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return lengths[a] > lengths[b]; });
  std::vector<std::vector<size_t>> batches;
  std::vector<size_t> current;
  int64_t longest = 0, real = 0;
  for (size_t pos : order) {
    // Longest first: the first sample of a batch fixes its padded length.
    const int64_t len = std::max<int64_t>(1, lengths[pos]);
    const int64_t padded = (static_cast<int64_t>(current.size()) + 1) * longest;
    const bool full = !current.empty() &&
                      (padded > token_budget || (max_rows > 0 && static_cast<int64_t>(current.size()) >= max_rows) ||
                       static_cast<double>(padded - real - len) > max_padding * static_cast<double>(padded));
    if (full) {
      std::sort(current.begin(), current.end());
      batches.push_back(std::move(current));
      current.clear();
    }
    if (current.empty()) longest = len, real = 0;
    current.push_back(pos);
    real += len;
  }
  if (!current.empty()) {
    std::sort(current.begin(), current.end());
    batches.push_back(std::move(current));
  }
  return batches;
}

Batch make_batch(const std::vector<const data::Sample*>& samples, at::Device device) {
  NTKS_CHECK(!samples.empty(), "make_batch of no samples");
  int64_t longest = 0;
  for (const data::Sample* s : samples) longest = std::max<int64_t>(longest, static_cast<int64_t>(s->ids.size()));
  const auto n = static_cast<int64_t>(samples.size());
  at::Tensor ids = at::zeros({n, longest}, at::kLong), mask = at::zeros({n, longest}, at::kLong),
             response = at::zeros({n, longest}, at::kFloat);
  auto ids_a = ids.accessor<int64_t, 2>();
  auto mask_a = mask.accessor<int64_t, 2>();
  auto resp_a = response.accessor<float, 2>();
  for (int64_t b = 0; b < n; ++b) {
    const data::Sample& s = *samples[static_cast<size_t>(b)];
    for (size_t t = 0; t < s.ids.size(); ++t) {
      ids_a[b][static_cast<int64_t>(t)] = s.ids[t];
      mask_a[b][static_cast<int64_t>(t)] = 1;
      resp_a[b][static_cast<int64_t>(t)] = s.response_mask[t] ? 1.0f : 0.0f;
    }
  }
  return {ids.to(device), mask.to(device), response.to(device)};
}

}  // namespace ntks::features
