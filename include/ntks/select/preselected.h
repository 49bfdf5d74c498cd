#pragma once
// The pre-selection list (DESIGN §2 step 3), RUN/preselect/preselected.h5:
// the candidates that are most often among the k nearest neighbours of a
// domain embedding, best first. Layout (docs/store-format.md, "Pre-selection
// file"): root attributes format = "ntks-preselected", format_version = 1,
// metadata (JSON text); 1-D datasets of equal length
//   records        int64    global candidate record index (data.candidates corpus)
//   ids            utf-8    the record's id
//   counts         int64    domain points whose global top-k holds the candidate
//   mean_distance  float64  mean Euclidean L2 distance over those domain points
// No HDF5 header here.

#include <cstdint>
#include <string>
#include <vector>

namespace ntks::select {

struct Preselected {
  std::vector<int64_t> records;       // global candidate record indices, best first
  std::vector<std::string> ids;       // their record ids
  std::vector<int64_t> counts;        // relevance: domain points whose global top-k holds the candidate
  std::vector<double> mean_distance;  // mean Euclidean (not squared) L2 distance over those domain points
  std::string metadata_json = "{}";   // what the file depends on (fingerprints), JSON text
};

/// Writes `path` atomically ("<path>.partial", then renamed). InternalError when the
/// columns differ in length, metadata_json is not JSON, or an id contains a NUL byte.
void write_preselected(const std::string& path, const Preselected& p);

/// Reads a file of write_preselected(). InputError naming the file when it is missing
/// (or only "<path>.partial" exists), not HDF5, truncated or corrupt, not a pre-selection
/// file (format/version), or inconsistent (columns of different lengths, a negative or
/// repeated record index, a count below 1, a negative or non-finite mean distance,
/// metadata that is not JSON).
Preselected read_preselected(const std::string& path);

}  // namespace ntks::select
