// TSDS's probability assignment: the breakpoints of every query popped in
// increasing order until the alignment-diversity condition holds
// (include/ntks/select/tsds.h), then each query's mass along its list.

#include <cmath>
#include <functional>
#include <queue>
#include <tuple>

#include "ntks/select/tsds.h"
#include "ntks/util/error.h"

namespace ntks::select {

TsdsAssignment tsds_assign(const Neighbors& prefetch, const std::vector<double>& density, double alpha, double c) {
  const std::int64_t nq = prefetch.queries, k = prefetch.k;
  NTKS_CHECK(nq >= 1 && k >= 2 && density.size() == prefetch.records.size(),
             "transport of {} queries x {} neighbours with {} densities", nq, k, density.size());
  for (std::size_t e = 0; e < density.size(); ++e)
    NTKS_CHECK(prefetch.records[e] >= 0 && density[e] >= 1 - 1e-12 && std::isfinite(prefetch.dist2[e]),
               "neighbour entry {}: record {}, density {}, dist2 {}", e, prefetch.records[e], density[e],
               prefetch.dist2[e]);
  const auto at = [k](std::int64_t j, std::int64_t t) { return static_cast<std::size_t>(j * k + t); };
  const auto dist = [&](std::int64_t j, std::int64_t t) { return std::sqrt(prefetch.dist2[at(j, t)]); };

  TsdsAssignment a;
  a.last.assign(static_cast<std::size_t>(nq), -1);
  // (breakpoint c_jt, t, j), smallest first; ties by t, then j, as Python's heapq orders TSDS's tuples.
  using Pop = std::tuple<double, std::int64_t, std::int64_t>;
  std::priority_queue<Pop, std::vector<Pop>, std::greater<Pop>> heap;
  std::vector<double> weighted(static_cast<std::size_t>(nq));  // sum_{i<=t} d_ji / kde_ji at the query's last pop
  std::vector<double> cost(static_cast<std::size_t>(nq), 0.0);
  for (std::int64_t j = 0; j < nq; ++j) {
    heap.emplace(1.0 / density[at(j, 0)], 0, j);
    weighted[j] = dist(j, 0) / density[at(j, 0)];
  }
  double total = 0;
  while (!heap.empty()) {
    const auto [count, t, j] = heap.top();
    heap.pop();
    ++a.pops;
    a.s = count;
    total -= cost[j];
    cost[j] = dist(j, t + 1) * count - weighted[j];
    total += cost[j];
    if (alpha / c * total >= (1 - alpha) * static_cast<double>(nq)) break;
    a.last[j] = t;
    if (t + 2 < k) {  // neighbour t + 2 exists to take the rest at the next breakpoint
      heap.emplace(count + 1.0 / density[at(j, t + 1)], t + 1, j);
      weighted[j] += dist(j, t + 1) / density[at(j, t + 1)];
    }
  }

  a.mass.assign(static_cast<std::size_t>(nq * k), 0.0);
  const double share = 1.0 / static_cast<double>(nq);
  for (std::int64_t j = 0; j < nq; ++j) {
    double given = 0;
    for (std::int64_t t = 0; t <= a.last[j]; ++t) {
      const double cap = share / a.s / density[at(j, t)];
      a.mass[at(j, t)] = cap;
      given += cap;
    }
    a.mass[at(j, a.last[j] + 1)] = std::max(share - given, 0.0);
  }
  return a;
}

}  // namespace ntks::select
