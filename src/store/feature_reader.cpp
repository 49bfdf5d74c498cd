// FeatureReader: opens only complete feature files and checks every attribute
// and shape before handing out a row, so a truncated, foreign or unfinished
// file is an InputError, never garbage.

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "feature_layout.h"
#include "half_bulk.h"
#include "ntks/store/feature_file.h"
#include "ntks/util/error.h"

namespace ntks::store {

struct FeatureReader::Impl {
  std::string path;
  layout::Header header;
  // Declared before the datasets so that they close first.
  h5::Handle file;
  layout::Datasets sets;
  h5::Handle half = h5::half_type();
  h5::Handle ids_type;  // the dataset's own string type: no character set conversion

  void check_range(std::int64_t begin, std::int64_t count) const {
    NTKS_CHECK(begin >= 0 && count >= 0 && begin <= header.rows && count <= header.rows - begin,
               "{}: rows [{}, {}) requested, the file has {} rows", path, begin, begin + count,
               header.rows);
  }
};

namespace {

constexpr std::int64_t kConvertBlockBytes = 4 << 20;

template <typename T>
void read_rows_into(hid_t dataset, hid_t mem_type, std::int64_t begin, std::int64_t count, T* out,
                    const std::string& path, const char* name) {
  const auto sel = layout::select_rows(dataset, begin, count);
  if (!sel || H5Dread(dataset, mem_type, sel->mem_space.get(), sel->file_space.get(), H5P_DEFAULT,
                      out) < 0) {
    h5::fail(path, fmt::format("cannot read rows [{}, {}) of '{}' (truncated or corrupt HDF5 file)",
                               begin, begin + count, name));
  }
}

}  // namespace

FeatureReader::FeatureReader(const std::string& path) : impl_(std::make_unique<Impl>()) {
  Impl& r = *impl_;
  r.path = path;
  h5::check_finished_hdf5(path);
  h5::QuietErrors quiet;
  h5::Handle fapl = h5::file_access();
  r.file = h5::Handle(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get()), H5Fclose);
  if (!r.file.valid()) h5::fail(path, "truncated or corrupt HDF5 file");
  r.header = layout::read_header(r.file.get(), path);
  if (!r.header.complete) throw InputError(layout::incomplete_message(path));
  r.sets = layout::open(r.file.get(), r.header, path, layout::Extent::exact);
  r.ids_type = h5::Handle(H5Dget_type(r.sets.ids.get()), H5Tclose);
  if (!r.ids_type.valid()) h5::fail(path, "cannot read the type of dataset 'ids'");
}

FeatureReader::FeatureReader(FeatureReader&&) noexcept = default;
FeatureReader& FeatureReader::operator=(FeatureReader&& other) noexcept {
  if (this != &other) {
    h5::QuietErrors quiet;
    impl_ = std::move(other.impl_);
  }
  return *this;
}

FeatureReader::~FeatureReader() {
  if (!impl_) return;
  h5::QuietErrors quiet;
  impl_.reset();
}

std::int64_t FeatureReader::rows() const { return impl_->header.rows; }
std::int64_t FeatureReader::reused_rows() const { return impl_->header.reused_rows; }
std::int64_t FeatureReader::dim() const { return impl_->header.spec.dim; }
ElementType FeatureReader::dtype() const { return impl_->header.spec.dtype; }
const std::string& FeatureReader::kind() const { return impl_->header.spec.kind; }
const std::string& FeatureReader::metadata_json() const { return impl_->header.spec.metadata_json; }
const std::string& FeatureReader::path() const { return impl_->path; }

void FeatureReader::read_rows(std::int64_t begin, std::int64_t count, float* out) const {
  const Impl& r = *impl_;
  r.check_range(begin, count);
  if (count == 0) return;
  NTKS_CHECK(out != nullptr, "{}: read_rows() into a null pointer", r.path);
  h5::QuietErrors quiet;
  const hid_t features = r.sets.features.get();
  const std::int64_t dim = r.header.spec.dim;
  if (r.header.spec.dtype == ElementType::f32) {
    read_rows_into(features, H5T_NATIVE_FLOAT, begin, count, out, r.path, layout::dataset::kFeatures);
    return;
  }
  // Raw half bits in blocks, widened by our converter (HDF5's is a slow soft path).
  const std::int64_t block = std::max<std::int64_t>(1, kConvertBlockBytes / (2 * dim));
  std::vector<std::uint16_t> bits(static_cast<std::size_t>(std::min(block, count) * dim));
  for (std::int64_t done = 0; done < count; done += block) {
    const std::int64_t n = std::min(block, count - done);
    read_rows_into(features, r.half.get(), begin + done, n, bits.data(), r.path,
                   layout::dataset::kFeatures);
    halves_to_floats(bits.data(), out + done * dim, static_cast<std::size_t>(n * dim));
  }
}

std::vector<std::uint64_t> FeatureReader::keys(std::int64_t begin, std::int64_t count) const {
  const Impl& r = *impl_;
  r.check_range(begin, count);
  std::vector<std::uint64_t> keys(static_cast<std::size_t>(count));
  if (count == 0) return keys;
  h5::QuietErrors quiet;
  read_rows_into(r.sets.keys.get(), H5T_NATIVE_UINT64, begin, count, keys.data(), r.path,
                 layout::dataset::kKeys);
  return keys;
}

std::vector<std::int64_t> FeatureReader::int_column(std::int64_t begin, std::int64_t count, bool tokens) const {
  const Impl& r = *impl_;
  r.check_range(begin, count);
  std::vector<std::int64_t> out(static_cast<std::size_t>(count));
  if (count == 0) return out;
  h5::QuietErrors quiet;
  read_rows_into(tokens ? r.sets.tokens.get() : r.sets.indices.get(), H5T_NATIVE_INT64, begin, count,
                 out.data(), r.path, tokens ? layout::dataset::kTokens : layout::dataset::kIndices);
  return out;
}

std::vector<std::int64_t> FeatureReader::indices(std::int64_t begin, std::int64_t count) const {
  return int_column(begin, count, false);
}

std::vector<std::int64_t> FeatureReader::tokens(std::int64_t begin, std::int64_t count) const {
  return int_column(begin, count, true);
}

std::vector<std::string> FeatureReader::ids(std::int64_t begin, std::int64_t count) const {
  const Impl& r = *impl_;
  r.check_range(begin, count);
  std::vector<std::string> ids;
  if (count == 0) return ids;
  h5::QuietErrors quiet;
  const auto sel = layout::select_rows(r.sets.ids.get(), begin, count);
  if (!sel) h5::fail(r.path, "cannot select rows of 'ids'");
  h5::VlenStrings raw(r.ids_type.get(), sel->mem_space.get(), count);
  if (H5Dread(r.sets.ids.get(), r.ids_type.get(), sel->mem_space.get(), sel->file_space.get(),
              H5P_DEFAULT, raw.ptrs.data()) < 0) {
    h5::fail(r.path, fmt::format("cannot read rows [{}, {}) of 'ids' (truncated or corrupt HDF5 "
                                 "file)", begin, begin + count));
  }
  ids.reserve(raw.ptrs.size());
  for (const char* s : raw.ptrs) ids.emplace_back(s != nullptr ? s : "");
  return ids;
}

}  // namespace ntks::store
