#pragma once
// Seeded Gumbel noise for sampling without replacement (the Gumbel top-k
// trick): the M largest of log w_i + G_i, with G_i independent standard Gumbel
// variables, are a draw of M distinct items, each next one picked with
// probability proportional to w among those left (Plackett-Luce; for M = 1,
// P(i) = w_i / sum w). DSIR resamples this way, and it is how TSDS's draws with
// replacement become M distinct records (tsds.h).
//
// The noise is counter-based: G depends only on (seed, record index), never on
// which rank, shard or thread computes it, nor in which order:
//   mix(x)  = splitmix64 finaliser of x + 0x9E3779B97F4A7C15 (SplitMix64(x).next())
//   bits    = mix(mix(seed) ^ mix(record))
//   u       = ((bits >> 11) + 0.5) / 2^53               in (0, 1), never 0 or 1
//   G       = -log(-log(u))

#include <cstdint>
#include <vector>

namespace ntks::select {

/// The standard Gumbel variable of `record` for `seed` (formula above).
double gumbel_noise(std::uint64_t seed, std::int64_t record);

/// log_values[i] + gumbel_noise(seed, records[i]) for every i (-inf stays
/// -inf: an item of weight 0 is never drawn). Same lengths, else InternalError.
std::vector<double> gumbel_perturbed(const std::vector<double>& log_values, const std::vector<std::int64_t>& records,
                                     std::uint64_t seed);

}  // namespace ntks::select
