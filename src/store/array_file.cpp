#include "ntks/store/array_file.h"

#include <algorithm>
#include <cstdio>

#include "h5.h"
#include "ntks/util/error.h"

namespace ntks::store {

struct ArrayFileWriter::Impl {
  std::string path, partial;
  h5::Handle file;
  bool done = false;

  void add(const std::string& name, const std::vector<std::int64_t>& shape, hid_t mem_type, const void* data) {
    NTKS_CHECK(!done, "add after finalize");
    h5::QuietErrors quiet;
    std::vector<hsize_t> dims(shape.begin(), shape.end());
    h5::Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
    h5::Handle set(H5Dcreate2(file.get(), name.c_str(), mem_type, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                   H5Dclose);
    if (!set.valid()) h5::fail(partial, "cannot create dataset '" + name + "'");
    const bool empty = std::find(shape.begin(), shape.end(), 0) != shape.end();  // HDF5 refuses a null buffer
    if (!empty && H5Dwrite(set.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
      h5::fail(partial, "cannot write dataset '" + name + "'");
  }
};

ArrayFileWriter::ArrayFileWriter(const std::string& path) : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  impl_->partial = path + ".partial";
  h5::QuietErrors quiet;
  impl_->file = h5::Handle(H5Fcreate(impl_->partial.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
  if (!impl_->file.valid()) h5::fail(impl_->partial, "cannot create the file");
}

ArrayFileWriter::~ArrayFileWriter() {
  if (impl_ && !impl_->done) {
    impl_->file.reset();
    std::remove(impl_->partial.c_str());  // an unfinished output is never left to be mistaken for one
  }
}

void ArrayFileWriter::add(const std::string& name, const std::vector<std::int64_t>& shape, const float* data) {
  impl_->add(name, shape, H5T_NATIVE_FLOAT, data);
}

void ArrayFileWriter::add(const std::string& name, const std::vector<std::int64_t>& shape, const double* data) {
  impl_->add(name, shape, H5T_NATIVE_DOUBLE, data);
}

void ArrayFileWriter::add(const std::string& name, const std::vector<std::int64_t>& shape, const std::int64_t* data) {
  impl_->add(name, shape, H5T_NATIVE_INT64, data);
}

void ArrayFileWriter::add_strings(const std::string& name, const std::vector<std::string>& values) {
  std::vector<const char*> ptrs(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    NTKS_CHECK(values[i].find('\0') == std::string::npos, "{}: string {} of dataset '{}' contains a NUL byte",
               impl_->partial, i, name);
    ptrs[i] = values[i].c_str();
  }
  h5::Handle utf8 = h5::utf8_string_type();
  impl_->add(name, {static_cast<std::int64_t>(values.size())}, utf8.get(), ptrs.data());
}

void ArrayFileWriter::set_attribute(const std::string& name, const std::string& value) {
  NTKS_CHECK(!impl_->done, "set_attribute after finalize");
  h5::QuietErrors quiet;
  h5::write_string_attr(impl_->file.get(), name.c_str(), value, impl_->partial);
}

void ArrayFileWriter::set_attribute(const std::string& name, std::int64_t value) {
  NTKS_CHECK(!impl_->done, "set_attribute after finalize");
  h5::QuietErrors quiet;
  h5::write_int_attr(impl_->file.get(), name.c_str(), value, H5T_STD_I64LE, impl_->partial);
}

void ArrayFileWriter::finalize() {
  if (!impl_->file.reset()) throw InputError(impl_->partial + ": closing the file failed");
  if (std::rename(impl_->partial.c_str(), impl_->path.c_str()) != 0)
    throw InputError(fmt::format("cannot rename {} to {}", impl_->partial, impl_->path));
  impl_->done = true;
}

}  // namespace ntks::store
