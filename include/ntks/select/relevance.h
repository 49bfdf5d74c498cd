#pragma once
// Relevance of candidates from the domain points' k nearest neighbours
// (DESIGN §2 step 3): a candidate's count is the number of domain points
// whose top k holds it; its mean distance is the mean Euclidean (not squared)
// distance to those points. The ranking is a total order, so it never
// depends on the order the lists arrived in.

#include <cstdint>
#include <vector>

#include "ntks/select/knn.h"

namespace ntks::select {

struct Relevance {
  std::vector<std::int64_t> records;  ///< best first
  std::vector<std::int64_t> rows;     ///< their rows in the candidate dataset
  std::vector<std::int64_t> counts;
  std::vector<double> mean_distance;
  std::int64_t with_count = 0;        ///< candidates in some top k (before the cut to m)
};

/// Every candidate of the lists ranked by higher count, then lower mean
/// distance, then lower record index; the first m kept (all when fewer).
/// Each mean is the sum of sqrt(dist2) in query order, divided by the count.
Relevance rank_by_relevance(const Neighbors& neighbors, std::int64_t m);

}  // namespace ntks::select
