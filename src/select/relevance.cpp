#include "ntks/select/relevance.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>

#include "ntks/util/error.h"

namespace ntks::select {

Relevance rank_by_relevance(const Neighbors& neighbors, std::int64_t m) {
  NTKS_CHECK(m >= 0, "rank_by_relevance(m = {})", m);
  struct Tally {
    std::int64_t row = -1, count = 0;
    double sum = 0;
  };
  std::unordered_map<std::int64_t, Tally> tally;
  for (std::size_t i = 0; i < neighbors.records.size(); ++i) {  // query order: fixed sums
    const std::int64_t record = neighbors.records[i];
    if (record < 0) continue;
    Tally& t = tally[record];
    t.row = neighbors.rows[i];
    ++t.count;
    t.sum += std::sqrt(neighbors.dist2[i]);
  }
  struct Item {
    std::int64_t record, row, count;
    double mean;
  };
  std::vector<Item> items;
  items.reserve(tally.size());
  for (const auto& [record, t] : tally) items.push_back({record, t.row, t.count, t.sum / static_cast<double>(t.count)});
  const auto better = [](const Item& a, const Item& b) {
    if (a.count != b.count) return a.count > b.count;
    if (a.mean != b.mean) return a.mean < b.mean;
    return a.record < b.record;
  };
  const auto keep = static_cast<std::size_t>(std::min<std::int64_t>(m, static_cast<std::int64_t>(items.size())));
  std::partial_sort(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(keep), items.end(), better);
  Relevance r;
  r.with_count = static_cast<std::int64_t>(items.size());
  for (std::size_t i = 0; i < keep; ++i) {
    r.records.push_back(items[i].record);
    r.rows.push_back(items[i].row);
    r.counts.push_back(items[i].count);
    r.mean_distance.push_back(items[i].mean);
  }
  return r;
}

}  // namespace ntks::select
