#include "ntks/select/gumbel.h"

#include <cmath>

#include "ntks/select/shuffle.h"
#include "ntks/util/error.h"

namespace ntks::select {

namespace {

std::uint64_t mix(std::uint64_t x) { return SplitMix64(x).next(); }

}  // namespace

double gumbel_noise(std::uint64_t seed, std::int64_t record) {
  const std::uint64_t bits = mix(mix(seed) ^ mix(static_cast<std::uint64_t>(record)));
  const double u = (static_cast<double>(bits >> 11) + 0.5) * 0x1.0p-53;
  return -std::log(-std::log(u));
}

std::vector<double> gumbel_perturbed(const std::vector<double>& log_values, const std::vector<std::int64_t>& records,
                                     std::uint64_t seed) {
  NTKS_CHECK(log_values.size() == records.size(), "{} values for {} records", log_values.size(), records.size());
  std::vector<double> out(log_values.size());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = log_values[i] + gumbel_noise(seed, records[i]);
  return out;
}

}  // namespace ntks::select
