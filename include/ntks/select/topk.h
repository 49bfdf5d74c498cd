#pragma once
// The selection rule (DESIGN §2 step 5): the M highest scores, ties broken by
// the lower record index, so the order never depends on the order the scores
// arrived in.

#include <cstdint>
#include <vector>

namespace ntks::select {

/// Positions into `scores` of the `m` best, best first: higher score first,
/// equal scores by lower records[i]. scores and records have the same length;
/// UsageError naming both numbers when m exceeds it, InputError when a score
/// is NaN (it has no place in the order; names the record).
std::vector<std::size_t> top_m(const std::vector<double>& scores, const std::vector<std::int64_t>& records,
                               std::int64_t m);

}  // namespace ntks::select
