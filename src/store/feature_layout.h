#pragma once
// The on-disk layout of a feature file (docs/store-format.md), shared by the
// writer, resume() and the reader so that all three agree on what is valid.

#include <cstdint>
#include <optional>
#include <string>

#include "h5.h"
#include "ntks/store/feature_file.h"

namespace ntks::store::layout {

inline constexpr const char* kFormat = "ntks-features";
inline constexpr std::int64_t kFormatVersion = 2;  // 2: per-row indices and tokens
inline constexpr const char* kPartialSuffix = ".partial";

namespace attr {
inline constexpr const char* kFormat = "format";
inline constexpr const char* kFormatVersion = "format_version";
inline constexpr const char* kDim = "dim";
inline constexpr const char* kDtype = "dtype";
inline constexpr const char* kKind = "kind";
inline constexpr const char* kMetadata = "metadata";
inline constexpr const char* kRows = "rows";
inline constexpr const char* kComplete = "complete";
/// Optional (absent: 0): how many of the committed rows were copied from an
/// earlier run's file rather than computed (features/row_reuse.h).
inline constexpr const char* kReusedRows = "reused_rows";
}  // namespace attr

namespace dataset {
inline constexpr const char* kFeatures = "features";
inline constexpr const char* kKeys = "keys";
inline constexpr const char* kIds = "ids";
inline constexpr const char* kIndices = "indices";
inline constexpr const char* kTokens = "tokens";
}  // namespace dataset

/// What the root attributes say.
struct Header {
  FeatureFileSpec spec;    ///< chunk_rows is filled in by open()
  std::int64_t rows = 0;   ///< committed rows
  std::int64_t reused_rows = 0;  ///< of them, copied from an earlier run (0 <= reused_rows <= rows)
  bool complete = false;   ///< finalize() ran
};

struct Datasets {
  h5::Handle features;  ///< [rows, dim] float32 or IEEE half
  h5::Handle keys;      ///< [rows] uint64
  h5::Handle ids;       ///< [rows] variable-length UTF-8
  h5::Handle indices;   ///< [rows] int64: the sample's global record index in its corpus
  h5::Handle tokens;    ///< [rows] int64: the sample's tokens before truncation
};

/// How long the datasets may be relative to the `rows` attribute.
enum class Extent {
  exact,     ///< a complete file
  at_least,  ///< a partial file: an interrupted append may have extended them
};

std::int64_t element_bytes(ElementType t);
/// Rows per ~1 MiB chunk (at least 1).
std::int64_t auto_chunk_rows(std::int64_t dim, ElementType t);

/// Writes the root attributes (rows 0, complete 0) and creates the empty datasets.
Datasets create(hid_t file, const FeatureFileSpec& spec, const std::string& path);
/// Reads and checks the root attributes: present, of the right type, this format and
/// version, sane values. Does not look at `complete` beyond reading it.
Header read_header(hid_t file, const std::string& path);
/// Opens the datasets and checks their types and shapes against `header`; sets
/// header.spec.chunk_rows.
Datasets open(hid_t file, Header& header, const std::string& path, Extent extent);
/// Sets every dataset to `rows` rows; false on HDF5 failure.
bool resize(const Datasets& sets, std::int64_t rows);

/// "<path>: incomplete (...)"
std::string incomplete_message(const std::string& path);

/// A file-space selection of rows [begin, begin+count) of a 1-D or 2-D dataset and the
/// matching contiguous memory space.
struct Selection {
  h5::Handle file_space;
  h5::Handle mem_space;
};
/// nullopt on HDF5 failure (the error stays on HDF5's stack for h5::fail).
std::optional<Selection> select_rows(hid_t dataset, std::int64_t begin, std::int64_t count);

}  // namespace ntks::store::layout
