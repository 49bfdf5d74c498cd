#pragma once
// Plain HDF5 files of named arrays (float32, float64, int64, UTF-8 strings)
// with scalar root attributes, for outputs that users open with h5py: the
// diagnostics of `ntk-select forward`, the pre-selection list, ... Written to
// "<path>.partial" and renamed by finalize(), so a file at <path> is always
// complete; no HDF5 header here.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ntks::store {

class ArrayFileWriter {
 public:
  explicit ArrayFileWriter(const std::string& path);
  ~ArrayFileWriter();
  ArrayFileWriter(const ArrayFileWriter&) = delete;
  ArrayFileWriter& operator=(const ArrayFileWriter&) = delete;

  /// A dataset `name` of the given shape from row-major `data` (product(shape) values).
  void add(const std::string& name, const std::vector<std::int64_t>& shape, const float* data);
  void add(const std::string& name, const std::vector<std::int64_t>& shape, const double* data);
  void add(const std::string& name, const std::vector<std::int64_t>& shape, const std::int64_t* data);
  /// A 1-D dataset of variable-length UTF-8 strings (h5py: `f[name].asstr()`).
  /// InternalError if a value contains a NUL byte (HDF5 strings end there).
  void add_strings(const std::string& name, const std::vector<std::string>& values);
  /// Scalar root attributes: a variable-length UTF-8 string, a 64-bit signed integer.
  void set_attribute(const std::string& name, const std::string& value);
  void set_attribute(const std::string& name, std::int64_t value);
  /// Closes and renames to the final path.
  void finalize();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Reads files of ArrayFileWriter (or any HDF5 file of root datasets). Every
/// failure is an InputError naming the file: missing (mentioning a leftover
/// "<path>.partial"), a ".partial" path, empty, not HDF5, truncated or corrupt,
/// an absent dataset, or one of another element type than asked for.
class ArrayFileReader {
 public:
  explicit ArrayFileReader(const std::string& path);
  ~ArrayFileReader();
  ArrayFileReader(const ArrayFileReader&) = delete;
  ArrayFileReader& operator=(const ArrayFileReader&) = delete;

  const std::string& path() const;
  bool has(const std::string& name) const;
  /// Dimensions of dataset `name`.
  std::vector<std::int64_t> shape(const std::string& name) const;
  /// Whole datasets, row-major. Floating-point datasets for read_float/read_double,
  /// integer datasets for read_int64; values are converted to the asked type.
  std::vector<float> read_float(const std::string& name) const;
  std::vector<double> read_double(const std::string& name) const;
  std::vector<std::int64_t> read_int64(const std::string& name) const;
  /// A 1-D dataset of strings (variable or fixed length).
  std::vector<std::string> read_strings(const std::string& name) const;
  /// Root attributes: nullopt when absent, InputError when not a scalar of that kind.
  std::optional<std::string> string_attribute(const std::string& name) const;
  std::optional<std::int64_t> int_attribute(const std::string& name) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ntks::store
