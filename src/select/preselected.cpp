#include "ntks/select/preselected.h"

#include <cmath>
#include <unordered_set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "ntks/store/array_file.h"
#include "ntks/util/error.h"

namespace ntks::select {

namespace {

constexpr const char* kFormat = "ntks-preselected";
constexpr std::int64_t kFormatVersion = 1;

namespace name {
constexpr const char* kFormat = "format";
constexpr const char* kFormatVersion = "format_version";
constexpr const char* kMetadata = "metadata";
constexpr const char* kRecords = "records";
constexpr const char* kIds = "ids";
constexpr const char* kCounts = "counts";
constexpr const char* kMeanDistance = "mean_distance";
}  // namespace name

[[noreturn]] void inconsistent(const std::string& path, const std::string& what) {
  throw InputError(fmt::format("{}: inconsistent pre-selection file: {}", path, what));
}

}  // namespace

void write_preselected(const std::string& path, const Preselected& p) {
  const std::size_t n = p.records.size();
  NTKS_CHECK(p.ids.size() == n && p.counts.size() == n && p.mean_distance.size() == n,
             "{}: columns of different lengths (records {}, ids {}, counts {}, mean_distance {})", path, n,
             p.ids.size(), p.counts.size(), p.mean_distance.size());
  NTKS_CHECK(nlohmann::json::accept(p.metadata_json), "{}: metadata is not JSON: {}", path, p.metadata_json);
  const std::vector<std::int64_t> shape{static_cast<std::int64_t>(n)};
  store::ArrayFileWriter w(path);
  w.set_attribute(name::kFormat, std::string(kFormat));
  w.set_attribute(name::kFormatVersion, kFormatVersion);
  w.set_attribute(name::kMetadata, p.metadata_json);
  w.add(name::kRecords, shape, p.records.data());
  w.add_strings(name::kIds, p.ids);
  w.add(name::kCounts, shape, p.counts.data());
  w.add(name::kMeanDistance, shape, p.mean_distance.data());
  w.finalize();
}

Preselected read_preselected(const std::string& path) {
  store::ArrayFileReader r(path);
  const auto format = r.string_attribute(name::kFormat);
  if (format != std::string(kFormat)) {
    throw InputError(fmt::format("{}: not a pre-selection file (attribute 'format' is {}, expected \"{}\"; "
                                 "it is written by `ntk-select preselect`)",
                                 path, format ? "\"" + *format + "\"" : "absent", kFormat));
  }
  const auto version = r.int_attribute(name::kFormatVersion);
  if (version != kFormatVersion) {
    throw InputError(fmt::format("{}: pre-selection format_version {}, this build reads {}", path,
                                 version ? std::to_string(*version) : "absent", kFormatVersion));
  }
  Preselected p;
  const auto metadata = r.string_attribute(name::kMetadata);
  if (!metadata) inconsistent(path, "no attribute 'metadata'");
  if (!nlohmann::json::accept(*metadata)) inconsistent(path, "attribute 'metadata' is not JSON");
  p.metadata_json = *metadata;
  for (const char* column : {name::kRecords, name::kIds, name::kCounts, name::kMeanDistance}) {
    if (r.shape(column).size() != 1) inconsistent(path, fmt::format("dataset '{}' is not 1-D", column));
  }
  p.records = r.read_int64(name::kRecords);
  p.ids = r.read_strings(name::kIds);
  p.counts = r.read_int64(name::kCounts);
  p.mean_distance = r.read_double(name::kMeanDistance);
  const std::size_t n = p.records.size();
  if (p.ids.size() != n || p.counts.size() != n || p.mean_distance.size() != n) {
    inconsistent(path, fmt::format("columns of different lengths (records {}, ids {}, counts {}, mean_distance {})",
                                   n, p.ids.size(), p.counts.size(), p.mean_distance.size()));
  }
  std::unordered_set<std::int64_t> seen;
  seen.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (p.records[i] < 0) inconsistent(path, fmt::format("records[{}] = {} is negative", i, p.records[i]));
    if (!seen.insert(p.records[i]).second) {
      inconsistent(path, fmt::format("record {} appears twice (records[{}])", p.records[i], i));
    }
    if (p.counts[i] < 1) inconsistent(path, fmt::format("counts[{}] = {} is below 1", i, p.counts[i]));
    if (!(std::isfinite(p.mean_distance[i]) && p.mean_distance[i] >= 0)) {
      inconsistent(path, fmt::format("mean_distance[{}] = {} is not a finite distance", i, p.mean_distance[i]));
    }
  }
  return p;
}

}  // namespace ntks::select
