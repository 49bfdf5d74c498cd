#pragma once
// Thin RAII and error helpers over the HDF5 C API. Private to the store: the
// rest of ntk-select never sees an HDF5 header.

#include <hdf5.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ntks::store::h5 {

/// Owns one HDF5 identifier and closes it with the matching H5?close.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer close) : id_(id), close_(close) {}
  Handle(Handle&& other) noexcept;
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  /// Closes now (no-op if empty); false if HDF5 reported an error. Never throws.
  bool reset() noexcept;

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer close_ = nullptr;
};

/// While alive, HDF5 does not print its error stack to stderr (failures become
/// our own messages); the previous handler comes back on destruction.
class QuietErrors {
 public:
  QuietErrors();
  ~QuietErrors();
  QuietErrors(const QuietErrors&) = delete;
  QuietErrors& operator=(const QuietErrors&) = delete;

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

/// The innermost description on HDF5's error stack ("" if none); clears the stack.
std::string take_error();

/// Throws InputError "<path>: <what> (HDF5: <innermost error>)".
[[noreturn]] void fail(const std::string& path, const std::string& what);

/// Before a file is opened for reading: InputError for a path ending in ".partial"
/// ("incomplete"), a missing file (mentioning a leftover "<path>.partial"), something
/// that is not a regular file, an empty file, a file that is not HDF5 or is corrupt.
void check_finished_hdf5(const std::string& path);

/// Strings HDF5 allocated in a variable-length read; freed on scope exit (after an
/// error message has been taken from HDF5's stack, which the next HDF5 call would clear).
struct VlenStrings {
  hid_t type;
  hid_t mem_space;
  std::vector<char*> ptrs;
  VlenStrings(hid_t t, hid_t space, std::int64_t n)
      : type(t), mem_space(space), ptrs(static_cast<std::size_t>(n), nullptr) {}
  VlenStrings(const VlenStrings&) = delete;
  VlenStrings& operator=(const VlenStrings&) = delete;
  ~VlenStrings() {
#if H5_VERSION_GE(1, 12, 0)
    H5Treclaim(type, mem_space, H5P_DEFAULT, ptrs.data());
#else
    H5Dvlen_reclaim(type, mem_space, H5P_DEFAULT, ptrs.data());
#endif
  }
};

/// IEEE binary16, little-endian: what h5py reads as numpy float16.
Handle half_type();
/// Variable-length UTF-8 C string.
Handle utf8_string_type();
/// A short description of a datatype for messages ("integer of 8 bytes", ...).
std::string describe_type(hid_t type);

/// File and dataset access lists shared by the writer and the reader.
Handle file_access();
Handle dataset_access(std::int64_t chunk_bytes);

// Root attributes. Writers replace an existing attribute of the same name.
void write_string_attr(hid_t obj, const char* name, const std::string& value,
                       const std::string& path);
void write_int_attr(hid_t obj, const char* name, std::int64_t value, hid_t file_type,
                    const std::string& path);
/// nullopt if absent; InputError if present but not a scalar string.
std::optional<std::string> read_string_attr(hid_t obj, const char* name, const std::string& path);
/// nullopt if absent; InputError if present but not a scalar integer.
std::optional<std::int64_t> read_int_attr(hid_t obj, const char* name, const std::string& path);

}  // namespace ntks::store::h5
