// ArrayFileReader: whole root datasets of a plain HDF5 array file, with every
// failure (missing, unfinished, corrupt, wrong type) an InputError naming the file.

#include <algorithm>

#include <fmt/format.h>

#include "h5.h"
#include "ntks/store/array_file.h"
#include "ntks/util/error.h"

namespace ntks::store {

struct ArrayFileReader::Impl {
  std::string path;
  h5::Handle file;

  h5::Handle open(const std::string& name) const {
    const htri_t exists = H5Lexists(file.get(), name.c_str(), H5P_DEFAULT);
    if (exists < 0) h5::fail(path, fmt::format("cannot look up dataset '{}'", name));
    if (exists == 0) throw InputError(fmt::format("{}: no dataset '{}'", path, name));
    h5::Handle set(H5Dopen2(file.get(), name.c_str(), H5P_DEFAULT), H5Dclose);
    if (!set.valid()) h5::fail(path, fmt::format("cannot open dataset '{}' (truncated or corrupt HDF5 file)", name));
    return set;
  }

  std::vector<std::int64_t> dims(hid_t set, const std::string& name) const {
    h5::Handle space(H5Dget_space(set), H5Sclose);
    const int rank = space.valid() ? H5Sget_simple_extent_ndims(space.get()) : -1;
    if (rank < 0) h5::fail(path, fmt::format("cannot read the shape of dataset '{}'", name));
    std::vector<hsize_t> d(static_cast<std::size_t>(rank));
    if (rank > 0) H5Sget_simple_extent_dims(space.get(), d.data(), nullptr);
    return {d.begin(), d.end()};
  }

  static std::size_t elements(const std::vector<std::int64_t>& shape) {
    std::size_t n = 1;
    for (auto d : shape) n *= static_cast<std::size_t>(d);
    return n;
  }

  // Checks the element class, then reads the whole dataset converted to mem_type.
  template <typename T>
  std::vector<T> read(const std::string& name, H5T_class_t want, const char* want_text, hid_t mem_type) const {
    h5::QuietErrors quiet;
    h5::Handle set = open(name);
    h5::Handle type(H5Dget_type(set.get()), H5Tclose);
    if (!type.valid()) h5::fail(path, fmt::format("cannot read the type of dataset '{}'", name));
    if (H5Tget_class(type.get()) != want) {
      throw InputError(fmt::format("{}: dataset '{}' has type {}, expected {}", path, name,
                                   h5::describe_type(type.get()), want_text));
    }
    std::vector<T> out(elements(dims(set.get(), name)));
    if (!out.empty() && H5Dread(set.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0) {
      h5::fail(path, fmt::format("cannot read dataset '{}' (truncated or corrupt HDF5 file)", name));
    }
    return out;
  }
};

ArrayFileReader::ArrayFileReader(const std::string& path) : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  h5::check_finished_hdf5(path);
  h5::QuietErrors quiet;
  h5::Handle fapl = h5::file_access();
  impl_->file = h5::Handle(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get()), H5Fclose);
  if (!impl_->file.valid()) h5::fail(path, "truncated or corrupt HDF5 file");
}

ArrayFileReader::~ArrayFileReader() {
  h5::QuietErrors quiet;
  impl_.reset();
}

const std::string& ArrayFileReader::path() const { return impl_->path; }

bool ArrayFileReader::has(const std::string& name) const {
  h5::QuietErrors quiet;
  const htri_t exists = H5Lexists(impl_->file.get(), name.c_str(), H5P_DEFAULT);
  if (exists < 0) h5::fail(impl_->path, fmt::format("cannot look up dataset '{}'", name));
  return exists > 0;
}

std::vector<std::int64_t> ArrayFileReader::shape(const std::string& name) const {
  h5::QuietErrors quiet;
  h5::Handle set = impl_->open(name);
  return impl_->dims(set.get(), name);
}

std::vector<float> ArrayFileReader::read_float(const std::string& name) const {
  return impl_->read<float>(name, H5T_FLOAT, "a float", H5T_NATIVE_FLOAT);
}

std::vector<double> ArrayFileReader::read_double(const std::string& name) const {
  return impl_->read<double>(name, H5T_FLOAT, "a float", H5T_NATIVE_DOUBLE);
}

std::vector<std::int64_t> ArrayFileReader::read_int64(const std::string& name) const {
  return impl_->read<std::int64_t>(name, H5T_INTEGER, "an integer", H5T_NATIVE_INT64);
}

std::vector<std::string> ArrayFileReader::read_strings(const std::string& name) const {
  const Impl& r = *impl_;
  h5::QuietErrors quiet;
  h5::Handle set = r.open(name);
  h5::Handle type(H5Dget_type(set.get()), H5Tclose);
  if (!type.valid()) h5::fail(r.path, fmt::format("cannot read the type of dataset '{}'", name));
  const auto shape = r.dims(set.get(), name);
  if (H5Tget_class(type.get()) != H5T_STRING || shape.size() != 1) {
    throw InputError(fmt::format("{}: dataset '{}' has type {} and {} dimensions, expected 1-D strings", r.path,
                                 name, h5::describe_type(type.get()), shape.size()));
  }
  std::vector<std::string> out;
  const std::int64_t n = shape[0];
  if (n == 0) return out;
  out.reserve(static_cast<std::size_t>(n));
  // Read with the dataset's own type: no character set conversion is involved.
  if (H5Tis_variable_str(type.get()) > 0) {
    h5::Handle mem_space(H5Screate_simple(1, std::vector<hsize_t>{static_cast<hsize_t>(n)}.data(), nullptr),
                         H5Sclose);
    h5::VlenStrings raw(type.get(), mem_space.get(), n);
    if (H5Dread(set.get(), type.get(), mem_space.get(), H5S_ALL, H5P_DEFAULT, raw.ptrs.data()) < 0) {
      h5::fail(r.path, fmt::format("cannot read dataset '{}' (truncated or corrupt HDF5 file)", name));
    }
    for (const char* s : raw.ptrs) out.emplace_back(s != nullptr ? s : "");
    return out;
  }
  const std::size_t width = H5Tget_size(type.get());
  std::vector<char> buffer(width * static_cast<std::size_t>(n));
  if (H5Dread(set.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()) < 0) {
    h5::fail(r.path, fmt::format("cannot read dataset '{}' (truncated or corrupt HDF5 file)", name));
  }
  const bool space_pad = H5Tget_strpad(type.get()) == H5T_STR_SPACEPAD;
  for (std::int64_t i = 0; i < n; ++i) {
    std::string s(buffer.data() + i * width, width);
    s.erase(std::min(s.find('\0'), s.size()));
    if (space_pad) s.erase(s.find_last_not_of(' ') + 1);
    out.push_back(std::move(s));
  }
  return out;
}

std::optional<std::string> ArrayFileReader::string_attribute(const std::string& name) const {
  h5::QuietErrors quiet;
  return h5::read_string_attr(impl_->file.get(), name.c_str(), impl_->path);
}

std::optional<std::int64_t> ArrayFileReader::int_attribute(const std::string& name) const {
  h5::QuietErrors quiet;
  return h5::read_int_attr(impl_->file.get(), name.c_str(), impl_->path);
}

}  // namespace ntks::store
