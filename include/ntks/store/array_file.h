#pragma once
// Plain HDF5 files of named arrays (float32, int64), for diagnostic outputs
// such as `ntk-select forward` that users open with h5py. Written to
// "<path>.partial" and renamed by finalize(); no HDF5 header here.

#include <cstdint>
#include <memory>
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
  void add(const std::string& name, const std::vector<std::int64_t>& shape, const std::int64_t* data);
  /// Closes and renames to the final path.
  void finalize();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ntks::store
