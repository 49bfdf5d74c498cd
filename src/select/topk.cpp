#include "ntks/select/topk.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "ntks/util/error.h"

namespace ntks::select {

std::vector<std::size_t> top_m(const std::vector<double>& scores, const std::vector<std::int64_t>& records,
                               std::int64_t m) {
  NTKS_CHECK(scores.size() == records.size(), "{} scores for {} records", scores.size(), records.size());
  const auto n = static_cast<std::int64_t>(scores.size());
  if (m < 0 || m > n)
    throw UsageError(fmt::format("select.size {} is larger than the {} scored candidates: select at most {} (or "
                                 "pre-select more with preselect.size / preselect.multiple)",
                                 m, n, n));
  for (std::size_t i = 0; i < scores.size(); ++i)
    if (std::isnan(scores[i])) throw InputError(fmt::format("the score of record {} is NaN", records[i]));
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  const auto better = [&](std::size_t a, std::size_t b) {
    return scores[a] != scores[b] ? scores[a] > scores[b] : records[a] < records[b];
  };
  std::partial_sort(order.begin(), order.begin() + m, order.end(), better);
  order.resize(static_cast<std::size_t>(m));
  return order;
}

}  // namespace ntks::select
