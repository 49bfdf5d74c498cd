// FeatureWriter: block appends to "<path>.partial", each durable before it
// returns, then an atomic rename on finalize().
//
// Durability order per append: extend the datasets and write the block, flush
// (data and extents reach the file), then count the rows in the `rows`
// attribute and flush again. A kill at any point leaves `rows` counting only
// blocks whose data is in the file; resume() cuts the datasets back to `rows`.

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "feature_layout.h"
#include "half_bulk.h"
#include "ntks/store/feature_file.h"
#include "ntks/util/error.h"

namespace ntks::store {

struct FeatureWriter::Impl {
  std::string path;     // final name
  std::string partial;  // name while being written
  FeatureFileSpec spec;
  std::int64_t rows = 0;
  std::int64_t reused_rows = 0;  // of `rows`, copied from an earlier run
  std::int64_t last_index = -1;  // indices value of the last committed row
  // Declared before the datasets so that they close first.
  h5::Handle file;
  layout::Datasets sets;
  h5::Handle half = h5::half_type();
  h5::Handle utf8 = h5::utf8_string_type();
  std::vector<std::uint16_t> half_buffer;
  bool closed = false;  // finalize() closed the file
};

namespace {

constexpr std::uint64_t kMaxChunkBytes = 0xffffffffull;  // HDF5's limit on one chunk

void fsync_path(const std::string& path, bool must_succeed) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  const bool ok = fd >= 0 && ::fsync(fd) == 0;
  const int err = errno;
  if (fd >= 0) ::close(fd);
  if (!ok && must_succeed) {
    throw InputError(fmt::format("{}: cannot sync to disk: {}", path, std::strerror(err)));
  }
}

h5::Handle open_file(const std::string& partial, bool create) {
  h5::Handle fapl = h5::file_access();
  const hid_t id = create ? H5Fcreate(partial.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get())
                          : H5Fopen(partial.c_str(), H5F_ACC_RDWR, fapl.get());
  return h5::Handle(id, H5Fclose);
}

// Writes `count` rows from `data` (in `mem_type`) at row `begin` of a dataset
// already extended to hold them.
bool write_rows(hid_t dataset, hid_t mem_type, std::int64_t begin, std::int64_t count,
                const void* data) {
  const auto sel = layout::select_rows(dataset, begin, count);
  return sel && H5Dwrite(dataset, mem_type, sel->mem_space.get(), sel->file_space.get(),
                         H5P_DEFAULT, data) >= 0;
}

// Reads what resume() keeps, so that a file HDF5 can open but not read is not
// trusted; sets *last_index to the last committed row's record index.
bool committed_rows_readable(const layout::Datasets& sets, const layout::Header& header,
                             std::int64_t* last_index) {
  *last_index = -1;
  if (header.rows == 0) return true;
  std::vector<std::uint64_t> keys(static_cast<std::size_t>(header.rows));
  auto sel = layout::select_rows(sets.keys.get(), 0, header.rows);
  if (!sel || H5Dread(sets.keys.get(), H5T_NATIVE_UINT64, sel->mem_space.get(),
                      sel->file_space.get(), H5P_DEFAULT, keys.data()) < 0) {
    return false;
  }
  std::vector<float> last_row(static_cast<std::size_t>(header.spec.dim));
  sel = layout::select_rows(sets.features.get(), header.rows - 1, 1);
  if (!sel || H5Dread(sets.features.get(), H5T_NATIVE_FLOAT, sel->mem_space.get(),
                      sel->file_space.get(), H5P_DEFAULT, last_row.data()) < 0) {
    return false;
  }
  for (hid_t set : {sets.indices.get(), sets.tokens.get()}) {
    std::int64_t value = 0;
    sel = layout::select_rows(set, header.rows - 1, 1);
    if (!sel || H5Dread(set, H5T_NATIVE_INT64, sel->mem_space.get(), sel->file_space.get(),
                        H5P_DEFAULT, &value) < 0) {
      return false;
    }
    if (set == sets.indices.get()) *last_index = value;
  }
  h5::Handle utf8 = h5::utf8_string_type();
  char* last_id = nullptr;
  sel = layout::select_rows(sets.ids.get(), header.rows - 1, 1);
  if (!sel || H5Dread(sets.ids.get(), utf8.get(), sel->mem_space.get(), sel->file_space.get(),
                      H5P_DEFAULT, &last_id) < 0) {
    return false;
  }
  H5free_memory(last_id);
  return true;
}

}  // namespace

FeatureWriter::FeatureWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FeatureWriter::FeatureWriter(FeatureWriter&&) noexcept = default;
FeatureWriter& FeatureWriter::operator=(FeatureWriter&& other) noexcept {
  if (this != &other) {
    h5::QuietErrors quiet;
    impl_ = std::move(other.impl_);
  }
  return *this;
}

FeatureWriter::~FeatureWriter() {
  if (!impl_) return;
  h5::QuietErrors quiet;
  impl_.reset();  // closing the datasets and the file flushes them; errors are dropped
}

FeatureWriter FeatureWriter::create(const std::string& path, const FeatureFileSpec& spec) {
  NTKS_CHECK(spec.dim > 0, "{}: feature dim must be > 0, got {}", path, spec.dim);
  NTKS_CHECK(spec.chunk_rows >= 0, "{}: chunk_rows must be >= 0, got {}", path, spec.chunk_rows);
  NTKS_CHECK(nlohmann::json::accept(spec.metadata_json), "{}: metadata_json is not JSON: {}", path,
             spec.metadata_json);
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->partial = path + layout::kPartialSuffix;
  impl->spec = spec;
  if (impl->spec.chunk_rows == 0) {
    impl->spec.chunk_rows = layout::auto_chunk_rows(spec.dim, spec.dtype);
  }
  const auto chunk_bytes = static_cast<std::uint64_t>(impl->spec.chunk_rows) *
                           static_cast<std::uint64_t>(spec.dim) *
                           static_cast<std::uint64_t>(layout::element_bytes(spec.dtype));
  NTKS_CHECK(chunk_bytes <= kMaxChunkBytes, "{}: a chunk of {} rows x {} columns is {} bytes, over "
             "HDF5's 4 GiB limit", path, impl->spec.chunk_rows, spec.dim, chunk_bytes);

  h5::QuietErrors quiet;
  impl->file = open_file(impl->partial, true);
  if (!impl->file.valid()) {
    h5::fail(impl->partial, "cannot create (does the directory exist and is it writable?)");
  }
  impl->sets = layout::create(impl->file.get(), impl->spec, impl->partial);
  if (H5Fflush(impl->file.get(), H5F_SCOPE_LOCAL) < 0) h5::fail(impl->partial, "cannot flush");
  return FeatureWriter(std::move(impl));
}

FeatureWriter FeatureWriter::resume(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->partial = path + layout::kPartialSuffix;
  const std::string& partial = impl->partial;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(partial, ec)) {
    throw InputError(fmt::format("{}: no partial file to resume", partial));
  }

  h5::QuietErrors quiet;
  if (H5Fis_hdf5(partial.c_str()) <= 0) {
    h5::fail(partial, "cannot be trusted: not an HDF5 file (truncated or corrupt)");
  }
  impl->file = open_file(partial, false);
  if (!impl->file.valid()) h5::fail(partial, "cannot be trusted: HDF5 cannot open it");
  layout::Header header = layout::read_header(impl->file.get(), partial);
  impl->sets = layout::open(impl->file.get(), header, partial, layout::Extent::at_least);
  if (!committed_rows_readable(impl->sets, header, &impl->last_index)) {
    h5::fail(partial, fmt::format("cannot be trusted: its {} committed rows cannot be read back",
                                  header.rows));
  }
  // Drop whatever an interrupted append wrote past the committed rows, and the
  // completion marker of an interrupted finalize().
  if (!layout::resize(impl->sets, header.rows)) {
    h5::fail(partial, fmt::format("cannot cut the datasets back to {} rows", header.rows));
  }
  h5::write_int_attr(impl->file.get(), layout::attr::kComplete, 0, H5T_STD_I32LE, partial);
  if (H5Fflush(impl->file.get(), H5F_SCOPE_LOCAL) < 0) h5::fail(partial, "cannot flush");
  impl->spec = header.spec;
  impl->rows = header.rows;
  impl->reused_rows = header.reused_rows;
  return FeatureWriter(std::move(impl));
}

void FeatureWriter::append(const float* rows, std::int64_t n, const std::uint64_t* keys,
                           const std::vector<std::string>& ids, const std::int64_t* indices,
                           const std::int64_t* tokens, std::int64_t reused) {
  NTKS_CHECK(impl_ != nullptr, "append() on a moved-from FeatureWriter");
  Impl& w = *impl_;
  NTKS_CHECK(!w.closed, "{}: append() after finalize()", w.path);
  NTKS_CHECK(n >= 0, "{}: append() of {} rows", w.path, n);
  NTKS_CHECK(reused >= 0 && reused <= n, "{}: append() of {} rows, {} of them reused", w.path, n, reused);
  NTKS_CHECK(ids.size() == static_cast<std::size_t>(n), "{}: append() of {} rows with {} ids",
             w.path, n, ids.size());
  if (n == 0) return;
  NTKS_CHECK(rows != nullptr && keys != nullptr && indices != nullptr && tokens != nullptr,
             "{}: append() of {} rows from a null pointer", w.path, n);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    NTKS_CHECK(ids[i].find('\0') == std::string::npos,
               "{}: id {} of the block (key {}) contains a NUL byte", w.path, i, keys[i]);
  }

  h5::QuietErrors quiet;
  const std::int64_t begin = w.rows;
  const std::int64_t end = begin + n;
  const auto what = [&] { return fmt::format("cannot append rows [{}, {})", begin, end); };
  if (!layout::resize(w.sets, end)) h5::fail(w.partial, what());

  bool ok;
  if (w.spec.dtype == ElementType::f16) {
    w.half_buffer.resize(static_cast<std::size_t>(n * w.spec.dim));
    floats_to_halves(rows, w.half_buffer.data(), w.half_buffer.size());
    ok = write_rows(w.sets.features.get(), w.half.get(), begin, n, w.half_buffer.data());
  } else {
    ok = write_rows(w.sets.features.get(), H5T_NATIVE_FLOAT, begin, n, rows);
  }
  std::vector<const char*> id_ptrs(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) id_ptrs[i] = ids[i].c_str();
  ok = ok && write_rows(w.sets.keys.get(), H5T_NATIVE_UINT64, begin, n, keys) &&
       write_rows(w.sets.ids.get(), w.utf8.get(), begin, n, id_ptrs.data()) &&
       write_rows(w.sets.indices.get(), H5T_NATIVE_INT64, begin, n, indices) &&
       write_rows(w.sets.tokens.get(), H5T_NATIVE_INT64, begin, n, tokens) &&
       H5Fflush(w.file.get(), H5F_SCOPE_LOCAL) >= 0;
  if (!ok) h5::fail(w.partial, what());

  // Both counts reach the file in the same flush.
  if (reused > 0 || w.reused_rows > 0)
    h5::write_int_attr(w.file.get(), layout::attr::kReusedRows, w.reused_rows + reused, H5T_STD_I64LE, w.partial);
  h5::write_int_attr(w.file.get(), layout::attr::kRows, end, H5T_STD_I64LE, w.partial);
  if (H5Fflush(w.file.get(), H5F_SCOPE_LOCAL) < 0) h5::fail(w.partial, what());
  w.rows = end;
  w.reused_rows += reused;
  w.last_index = indices[n - 1];
}

std::int64_t FeatureWriter::last_index() const {
  NTKS_CHECK(impl_ != nullptr, "last_index() on a moved-from FeatureWriter");
  return impl_->last_index;
}

std::int64_t FeatureWriter::reused_rows() const {
  NTKS_CHECK(impl_ != nullptr, "reused_rows() on a moved-from FeatureWriter");
  return impl_->reused_rows;
}

std::int64_t FeatureWriter::rows() const {
  NTKS_CHECK(impl_ != nullptr, "rows() on a moved-from FeatureWriter");
  return impl_->rows;
}

const FeatureFileSpec& FeatureWriter::spec() const {
  NTKS_CHECK(impl_ != nullptr, "spec() on a moved-from FeatureWriter");
  return impl_->spec;
}

const std::string& FeatureWriter::path() const {
  NTKS_CHECK(impl_ != nullptr, "path() on a moved-from FeatureWriter");
  return impl_->path;
}

void FeatureWriter::finalize() {
  NTKS_CHECK(impl_ != nullptr, "finalize() on a moved-from FeatureWriter");
  Impl& w = *impl_;
  NTKS_CHECK(!w.closed, "{}: finalize() called twice", w.path);

  h5::QuietErrors quiet;
  // A failed append may have left the datasets longer than the committed rows.
  if (!layout::resize(w.sets, w.rows)) {
    h5::fail(w.partial, fmt::format("cannot cut the datasets to {} rows", w.rows));
  }
  h5::write_int_attr(w.file.get(), layout::attr::kComplete, 1, H5T_STD_I32LE, w.partial);
  w.closed = true;
  bool ok = w.sets.features.reset();
  ok = w.sets.keys.reset() && ok;
  ok = w.sets.ids.reset() && ok;
  ok = w.sets.indices.reset() && ok;
  ok = w.sets.tokens.reset() && ok;
  ok = w.file.reset() && ok;
  if (!ok) h5::fail(w.partial, "cannot close after writing");

  fsync_path(w.partial, true);
  if (std::rename(w.partial.c_str(), w.path.c_str()) != 0) {
    throw InputError(fmt::format("{}: cannot rename to {}: {}", w.partial, w.path,
                                 std::strerror(errno)));
  }
  // Make the rename itself durable; some file systems cannot sync a directory.
  const std::filesystem::path dir = std::filesystem::path(w.path).parent_path();
  fsync_path(dir.empty() ? "." : dir.string(), false);
}

}  // namespace ntks::store
