#pragma once
// The shards of one feature kind (RUN/embed/candidates-00000-of-00004.h5 ...)
// presented as one dataset through an index file written when the last shard
// is complete: RUN/embed/candidates.json lists the shard files in order with
// their row counts and metadata.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ntks/store/feature_file.h"

namespace ntks::features {

/// "<dir>/<prefix>-IIIII-of-NNNNN.h5"
std::string shard_file(const std::string& dir, const std::string& prefix, int shard, int num_shards);

/// Writes "<dir>/<prefix>.json" when all `num_shards` shard files exist and
/// are complete with the same metadata; returns false (and writes nothing)
/// when some are still missing. InputError when shards disagree.
bool write_feature_set_index(const std::string& dir, const std::string& prefix, int num_shards);

class FeatureSet {
 public:
  /// Opens the index file and every shard it names; InputError when one is
  /// missing, incomplete, or no longer has the rows the index recorded.
  explicit FeatureSet(const std::string& index_path);
  FeatureSet(FeatureSet&&) noexcept;
  ~FeatureSet();

  int64_t rows() const;
  /// Rows the shards copied from an earlier run rather than computed.
  int64_t reused_rows() const;
  int64_t dim() const;
  const std::string& metadata_json() const;
  /// Rows [begin, begin+count) across shards, row-major fp32.
  void read_rows(int64_t begin, int64_t count, float* out) const;
  std::vector<uint64_t> keys(int64_t begin, int64_t count) const;
  std::vector<std::string> ids(int64_t begin, int64_t count) const;
  std::vector<int64_t> indices(int64_t begin, int64_t count) const;
  std::vector<int64_t> tokens(int64_t begin, int64_t count) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ntks::features
