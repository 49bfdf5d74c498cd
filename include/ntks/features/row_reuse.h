#pragma once
// Feature rows of an earlier run, found by the sample's content hash: what a
// rerun on a refreshed corpus copies instead of computing (`--reuse RUN`,
// cluster/cron/refresh).
//
// A row depends on the sample's content (its key: data/record_hash.cpp) and on
// how it was computed: the model, adapter, template, data settings and the
// stage's own settings, which is the feature file's metadata less the list of
// corpus files and records it was made from. A file is used only when that, its kind, dim and storage dtype
// equal the job's; any other file (another adapter, projection seed, dtype,
// or not a feature file at all) is passed over with a log line saying why.
//
// Memory: 16 bytes per indexed row on every rank (10 M rows: 160 MB), since a
// rank learns its samples' keys only as it reads them.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ntks/store/feature_file.h"

namespace ntks::features {

/// The job-independent part of a feature file's metadata: the JSON less its
/// "corpus" entry and the stage's record list ("stage.ids", "stage.preselected").
/// Two files with equal identities hold equal rows for equal keys.
std::string row_identity(const std::string& metadata_json);

class RowReuse {
 public:
  RowReuse();  ///< finds nothing
  /// Indexes the keys of every file among `files` that holds rows like `spec`
  /// would (kind, dim, dtype, row_identity of the metadata).
  static RowReuse open(const std::vector<std::string>& files, const store::FeatureFileSpec& spec);
  RowReuse(RowReuse&&) noexcept;
  RowReuse& operator=(RowReuse&&) noexcept;
  ~RowReuse();

  bool empty() const;
  int64_t rows() const;  ///< rows that can be reused
  /// For each key: whether a row was found; found rows are copied to
  /// out + i * dim (float32), the others left as they are. Rows that lie
  /// next to each other in a file are read together.
  std::vector<bool> find(const std::vector<uint64_t>& keys, float* out) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ntks::features
