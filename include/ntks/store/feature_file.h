#pragma once
// HDF5 feature files: one 2-D matrix of rows (embeddings, projected gradients)
// per shard, each row keyed by the sample's content hash and its id.
//
// Storage conventions (full schema with an h5py example: docs/store-format.md):
//  - rows are written in blocks by FeatureWriter to "<path>.partial"; every
//    append is durable before it returns (a killed run keeps the rows of the
//    appends that returned, and FeatureWriter::resume() continues from there);
//  - finalize() marks the file complete and renames it to <path>, so a file at
//    <path> is always complete and FeatureReader refuses anything else;
//  - callers always see float32; ElementType::f16 only changes the disk type.
//
// HDF5 stays behind this header: nothing here includes an HDF5 header. The
// serial HDF5 library is not thread safe: use a writer or reader from one
// thread at a time, and do not use two of them concurrently from different threads.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ntks::store {

/// Element type of the `features` dataset on disk.
enum class ElementType {
  f32,  ///< IEEE binary32
  f16,  ///< IEEE binary16 (numpy float16), rounded to nearest even from float32
};

/// "f32" / "f16", as stored in the `dtype` attribute.
const char* to_string(ElementType t);

/// What a feature file holds, fixed when the file is created.
struct FeatureFileSpec {
  std::int64_t dim = 0;                   ///< columns per row (>0)
  ElementType dtype = ElementType::f32;   ///< storage type of `features`
  std::int64_t chunk_rows = 0;            ///< HDF5 chunk height in rows; 0: auto (~1 MiB chunks, >=1 row)
  std::string kind;                       ///< what the rows are: "embeddings", "grads", ...
  std::string metadata_json = "{}";       ///< free JSON text kept as an attribute (fingerprints)
};

/// Writes a feature file block by block. Move-only.
class FeatureWriter {
 public:
  /// Writes to "<path>.partial" (replacing a stale one); nothing appears at <path> until
  /// finalize(). Throws InputError if the file cannot be created; InternalError if `spec`
  /// is invalid (dim <= 0, chunk_rows < 0, metadata_json not JSON).
  static FeatureWriter create(const std::string& path, const FeatureFileSpec& spec);

  /// Reopens "<path>.partial" left by an interrupted run; keeps exactly the rows of the
  /// blocks whose append() returned (spec() is read back from the file; chunk_rows is the
  /// actual chunk height). Throws InputError if there is no partial file or it cannot be
  /// trusted (the caller then starts over with create()).
  static FeatureWriter resume(const std::string& path);

  FeatureWriter(FeatureWriter&&) noexcept;
  FeatureWriter& operator=(FeatureWriter&&) noexcept;
  FeatureWriter(const FeatureWriter&) = delete;
  FeatureWriter& operator=(const FeatureWriter&) = delete;
  /// Without finalize(): closes the partial file cleanly and leaves it for resume().
  /// Never throws.
  ~FeatureWriter();

  /// Appends `n` rows: `rows` is row-major float32 [n, dim]; keys, indices and tokens
  /// have n values and ids.size() == n (ids must not contain NUL bytes). Converted to
  /// fp16 on disk if the dtype is f16. Durable when it returns. n == 0 is a no-op.
  /// `reused` (<= n) of the rows were copied from an earlier run's file rather than
  /// computed; the file keeps the running total (attribute `reused_rows`).
  void append(const float* rows, std::int64_t n, const std::uint64_t* keys,
              const std::vector<std::string>& ids, const std::int64_t* indices,
              const std::int64_t* tokens, std::int64_t reused = 0);

  /// Rows committed so far.
  std::int64_t rows() const;
  /// Of them, rows that were copied rather than computed.
  std::int64_t reused_rows() const;
  /// `indices` value of the last committed row (-1 when there is none): where a
  /// resumed stage continues.
  std::int64_t last_index() const;
  const FeatureFileSpec& spec() const;
  /// The final path (without ".partial").
  const std::string& path() const;

  /// Marks the file complete, flushes, closes and renames <path>.partial -> <path>
  /// atomically. The writer cannot append afterwards.
  void finalize();

 private:
  struct Impl;
  explicit FeatureWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Reads a complete feature file. Keeps the file open until destroyed.
class FeatureReader {
 public:
  /// Throws InputError if the file is missing, not HDF5, truncated, foreign, incomplete
  /// (no completion marker, or a ".partial" path) or inconsistent (shapes vs attributes).
  explicit FeatureReader(const std::string& path);
  FeatureReader(FeatureReader&&) noexcept;
  FeatureReader& operator=(FeatureReader&&) noexcept;
  FeatureReader(const FeatureReader&) = delete;
  FeatureReader& operator=(const FeatureReader&) = delete;
  ~FeatureReader();

  std::int64_t rows() const;
  /// Rows copied from an earlier run's file rather than computed (0 for files
  /// written before the attribute existed).
  std::int64_t reused_rows() const;
  std::int64_t dim() const;
  ElementType dtype() const;
  const std::string& kind() const;
  const std::string& metadata_json() const;
  const std::string& path() const;

  /// Copies rows [begin, begin+count) into `out` (count*dim floats, row-major); f16 is
  /// widened to f32. InternalError if the range is outside [0, rows()).
  void read_rows(std::int64_t begin, std::int64_t count, float* out) const;
  /// Keys of rows [begin, begin+count); same range check.
  std::vector<std::uint64_t> keys(std::int64_t begin, std::int64_t count) const;
  /// Ids of rows [begin, begin+count); same range check.
  std::vector<std::string> ids(std::int64_t begin, std::int64_t count) const;
  /// Global record indices (in the producing stage's corpus) of rows [begin, begin+count).
  std::vector<std::int64_t> indices(std::int64_t begin, std::int64_t count) const;
  /// Token counts (before truncation) of rows [begin, begin+count).
  std::vector<std::int64_t> tokens(std::int64_t begin, std::int64_t count) const;

 private:
  std::vector<std::int64_t> int_column(std::int64_t begin, std::int64_t count, bool tokens) const;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// float32 -> IEEE binary16 bits, rounded to nearest even. Values from 65520 up become
/// inf; values below 2^-14 become subnormals (2^-25 and below round to signed zero); NaN
/// stays NaN (quiet bit set, top payload bits kept).
std::uint16_t float_to_half(float f);
/// IEEE binary16 bits -> float32 (exact: every half is a float).
float half_to_float(std::uint16_t h);

}  // namespace ntks::store
