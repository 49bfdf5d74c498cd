#include "h5.h"

#include <algorithm>
#include <filesystem>
#include <vector>

#include <fmt/format.h>

#include "ntks/util/error.h"

namespace ntks::store::h5 {

Handle::Handle(Handle&& other) noexcept : id_(other.id_), close_(other.close_) {
  other.id_ = H5I_INVALID_HID;
}

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    reset();
    id_ = other.id_;
    close_ = other.close_;
    other.id_ = H5I_INVALID_HID;
  }
  return *this;
}

bool Handle::reset() noexcept {
  if (id_ < 0) return true;
  // Every HDF5 call clears the error stack; keep a pending error for h5::fail.
  const hid_t pending = H5Eget_num(H5E_DEFAULT) > 0 ? H5Eget_current_stack() : H5I_INVALID_HID;
  const herr_t status = close_(id_);
  id_ = H5I_INVALID_HID;
  if (pending >= 0) H5Eset_current_stack(pending);  // restores and releases it
  return status >= 0;
}

QuietErrors::QuietErrors() {
  H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

QuietErrors::~QuietErrors() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }

namespace {

herr_t keep_innermost(unsigned n, const H5E_error2_t* err, void* out) {
  if (n == 0 && err->desc != nullptr) *static_cast<std::string*>(out) = err->desc;
  return 0;
}

}  // namespace

std::string take_error() {
  std::string innermost;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_innermost, &innermost);
  H5Eclear2(H5E_DEFAULT);
  return innermost;
}

void fail(const std::string& path, const std::string& what) {
  const std::string detail = take_error();
  if (detail.empty()) throw InputError(fmt::format("{}: {}", path, what));
  throw InputError(fmt::format("{}: {} (HDF5: {})", path, what, detail));
}

void check_finished_hdf5(const std::string& path) {
  namespace fs = std::filesystem;
  const std::string partial = ".partial";
  if (path.size() >= partial.size() && path.compare(path.size() - partial.size(), partial.size(), partial) == 0) {
    throw InputError(fmt::format("{}: incomplete (a {} file is still being written or was left by "
                                 "a run that did not finish)", path, partial));
  }
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (!fs::exists(status)) {
    if (fs::exists(path + partial, ec)) {
      throw InputError(fmt::format("{}: no such file, but {}{} exists: the run writing it did not "
                                   "finish", path, path, partial));
    }
    throw InputError(fmt::format("{}: no such file", path));
  }
  if (!fs::is_regular_file(status)) throw InputError(fmt::format("{}: not a regular file", path));
  if (fs::file_size(path, ec) == 0) {
    throw InputError(fmt::format("{}: empty file (truncated or corrupt HDF5 file)", path));
  }
  QuietErrors quiet;
  const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
  if (is_hdf5 == 0) throw InputError(fmt::format("{}: not an HDF5 file", path));
  if (is_hdf5 < 0) fail(path, "truncated or corrupt HDF5 file");
}

Handle half_type() {
  Handle t(H5Tcopy(H5T_IEEE_F32LE), H5Tclose);
  // Sign bit 15, exponent bits 10..14 (bias 15), mantissa bits 0..9; the size
  // shrinks last because the fields must fit the precision at every step.
  if (!t.valid() || H5Tset_fields(t.get(), 15, 10, 5, 0, 10) < 0 || H5Tset_size(t.get(), 2) < 0 ||
      H5Tset_ebias(t.get(), 15) < 0) {
    throw InternalError("HDF5 refused to build the IEEE half type: " + take_error());
  }
  return t;
}

Handle utf8_string_type() {
  Handle t(H5Tcopy(H5T_C_S1), H5Tclose);
  if (!t.valid() || H5Tset_size(t.get(), H5T_VARIABLE) < 0 ||
      H5Tset_cset(t.get(), H5T_CSET_UTF8) < 0) {
    throw InternalError("HDF5 refused to build the UTF-8 string type: " + take_error());
  }
  return t;
}

std::string describe_type(hid_t type) {
  const char* name = "unknown";
  switch (H5Tget_class(type)) {
    case H5T_INTEGER: name = H5Tget_sign(type) == H5T_SGN_NONE ? "unsigned integer" : "integer"; break;
    case H5T_FLOAT: name = "float"; break;
    case H5T_STRING: name = H5Tis_variable_str(type) > 0 ? "variable-length string" : "fixed-length string"; break;
    case H5T_COMPOUND: name = "compound"; break;
    case H5T_ENUM: name = "enum"; break;
    case H5T_ARRAY: name = "array"; break;
    case H5T_VLEN: name = "variable-length sequence"; break;
    case H5T_OPAQUE: name = "opaque"; break;
    case H5T_BITFIELD: name = "bitfield"; break;
    case H5T_REFERENCE: name = "reference"; break;
    default: break;
  }
  return fmt::format("{} of {} bytes", name, H5Tget_size(type));
}

Handle file_access() {
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  if (!fapl.valid()) throw InternalError("H5Pcreate(file access) failed: " + take_error());
#if H5_VERSION_GE(1, 10, 7)
  // Lock while open, but carry on where the file system has no locks (Lustre, NFS).
  H5Pset_file_locking(fapl.get(), 1, 1);
#endif
  return fapl;
}

Handle dataset_access(std::int64_t chunk_bytes) {
  Handle dapl(H5Pcreate(H5P_DATASET_ACCESS), H5Pclose);
  if (!dapl.valid()) throw InternalError("H5Pcreate(dataset access) failed: " + take_error());
  // Room for a partly filled chunk between appends, so a small append does not
  // read back and rewrite a whole chunk; w0 = 1 drops fully written chunks first.
  const auto cache = static_cast<std::size_t>(std::max<std::int64_t>(4 << 20, 2 * chunk_bytes));
  H5Pset_chunk_cache(dapl.get(), 521, cache, 1.0);
  return dapl;
}

namespace {

Handle open_attr(hid_t obj, const char* name, const std::string& path) {
  const htri_t exists = H5Aexists(obj, name);
  if (exists < 0) fail(path, fmt::format("cannot look up attribute '{}'", name));
  if (exists == 0) return {};
  Handle attr(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
  if (!attr.valid()) fail(path, fmt::format("cannot open attribute '{}'", name));
  Handle space(H5Aget_space(attr.get()), H5Sclose);
  if (!space.valid() || H5Sget_simple_extent_npoints(space.get()) != 1) {
    fail(path, fmt::format("attribute '{}' is not a single value", name));
  }
  return attr;
}

}  // namespace

void write_string_attr(hid_t obj, const char* name, const std::string& value,
                       const std::string& path) {
  if (H5Aexists(obj, name) > 0 && H5Adelete(obj, name) < 0) {
    fail(path, fmt::format("cannot replace attribute '{}'", name));
  }
  Handle type = utf8_string_type();
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attr(H5Acreate2(obj, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  const char* text = value.c_str();
  if (!attr.valid() || H5Awrite(attr.get(), type.get(), &text) < 0) {
    fail(path, fmt::format("cannot write attribute '{}'", name));
  }
}

void write_int_attr(hid_t obj, const char* name, std::int64_t value, hid_t file_type,
                    const std::string& path) {
  Handle attr;
  if (H5Aexists(obj, name) > 0) {
    attr = Handle(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
  } else {
    Handle space(H5Screate(H5S_SCALAR), H5Sclose);
    attr = Handle(H5Acreate2(obj, name, file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  }
  if (!attr.valid() || H5Awrite(attr.get(), H5T_NATIVE_INT64, &value) < 0) {
    fail(path, fmt::format("cannot write attribute '{}' = {}", name, value));
  }
}

std::optional<std::string> read_string_attr(hid_t obj, const char* name, const std::string& path) {
  Handle attr = open_attr(obj, name, path);
  if (!attr.valid()) return std::nullopt;
  Handle type(H5Aget_type(attr.get()), H5Tclose);
  if (!type.valid()) fail(path, fmt::format("cannot read the type of attribute '{}'", name));
  if (H5Tget_class(type.get()) != H5T_STRING) {
    throw InputError(fmt::format("{}: attribute '{}' has type {}, expected a string", path, name,
                                 describe_type(type.get())));
  }
  // Read with the attribute's own type: no character set conversion is involved.
  if (H5Tis_variable_str(type.get()) > 0) {
    char* text = nullptr;
    if (H5Aread(attr.get(), type.get(), &text) < 0) {
      fail(path, fmt::format("cannot read attribute '{}'", name));
    }
    std::string value = text != nullptr ? text : "";
    H5free_memory(text);
    return value;
  }
  std::vector<char> buffer(H5Tget_size(type.get()) + 1, '\0');
  if (H5Aread(attr.get(), type.get(), buffer.data()) < 0) {
    fail(path, fmt::format("cannot read attribute '{}'", name));
  }
  std::string value(buffer.data());  // stops at the first NUL (null-terminated or -padded)
  if (H5Tget_strpad(type.get()) == H5T_STR_SPACEPAD) {
    value.erase(value.find_last_not_of(' ') + 1);
  }
  return value;
}

std::optional<std::int64_t> read_int_attr(hid_t obj, const char* name, const std::string& path) {
  Handle attr = open_attr(obj, name, path);
  if (!attr.valid()) return std::nullopt;
  Handle type(H5Aget_type(attr.get()), H5Tclose);
  if (!type.valid()) fail(path, fmt::format("cannot read the type of attribute '{}'", name));
  if (H5Tget_class(type.get()) != H5T_INTEGER) {
    throw InputError(fmt::format("{}: attribute '{}' has type {}, expected an integer", path, name,
                                 describe_type(type.get())));
  }
  std::int64_t value = 0;
  if (H5Aread(attr.get(), H5T_NATIVE_INT64, &value) < 0) {
    fail(path, fmt::format("cannot read attribute '{}'", name));
  }
  return value;
}

}  // namespace ntks::store::h5
