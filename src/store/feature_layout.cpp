#include "feature_layout.h"

#include <algorithm>

#include <fmt/format.h>

#include "ntks/util/error.h"

namespace ntks::store {

const char* to_string(ElementType t) { return t == ElementType::f16 ? "f16" : "f32"; }

namespace layout {

namespace {

// keys and ids are small per row; their chunks hold many rows.
constexpr hsize_t kIndexChunkRows = 4096;
constexpr std::int64_t kTargetChunkBytes = 1 << 20;

[[noreturn]] void malformed(const std::string& path, const std::string& what) {
  throw InputError(fmt::format("{}: malformed feature file: {}", path, what));
}

[[noreturn]] void inconsistent(const std::string& path, const std::string& what) {
  throw InputError(fmt::format("{}: inconsistent feature file: {}", path, what));
}

h5::Handle create_dataset(hid_t file, const char* name, hid_t type, int rank, hsize_t width,
                          hsize_t chunk_rows, bool write_fill, const std::string& path) {
  const hsize_t dims[2] = {0, width};
  const hsize_t maxdims[2] = {H5S_UNLIMITED, width};
  const hsize_t chunk[2] = {chunk_rows, width};
  h5::Handle space(H5Screate_simple(rank, dims, maxdims), H5Sclose);
  h5::Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  if (!space.valid() || !dcpl.valid() || H5Pset_chunk(dcpl.get(), rank, chunk) < 0 ||
      (!write_fill && H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_NEVER) < 0)) {
    h5::fail(path, fmt::format("cannot prepare dataset '{}'", name));
  }
  h5::Handle set(H5Dcreate2(file, name, type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                 H5Dclose);
  if (!set.valid()) h5::fail(path, fmt::format("cannot create dataset '{}'", name));
  return set;
}

struct Shape {
  int rank = 0;
  hsize_t dims[2] = {0, 0};
  hsize_t maxdims[2] = {0, 0};
};

// Opens `name` and checks rank, width, unlimited length and row count against the header.
h5::Handle open_dataset(hid_t file, const char* name, int rank, const Header& header,
                        Extent extent, const std::string& path, hid_t dapl = H5P_DEFAULT) {
  const htri_t exists = H5Lexists(file, name, H5P_DEFAULT);
  if (exists < 0) h5::fail(path, fmt::format("cannot look up dataset '{}'", name));
  if (exists == 0) malformed(path, fmt::format("no dataset '{}'", name));
  h5::Handle set(H5Dopen2(file, name, dapl), H5Dclose);
  if (!set.valid()) h5::fail(path, fmt::format("cannot open dataset '{}'", name));
  h5::Handle space(H5Dget_space(set.get()), H5Sclose);
  Shape s;
  s.rank = space.valid() ? H5Sget_simple_extent_ndims(space.get()) : -1;
  if (s.rank < 0) h5::fail(path, fmt::format("cannot read the shape of dataset '{}'", name));
  if (s.rank != rank) {
    inconsistent(path, fmt::format("dataset '{}' has {} dimensions, expected {}", name, s.rank, rank));
  }
  H5Sget_simple_extent_dims(space.get(), s.dims, s.maxdims);
  if (rank == 2 && s.dims[1] != static_cast<hsize_t>(header.spec.dim)) {
    inconsistent(path, fmt::format("dataset '{}' has {} columns, attribute 'dim' says {}", name,
                                   s.dims[1], header.spec.dim));
  }
  const auto rows = static_cast<hsize_t>(header.rows);
  if (extent == Extent::exact ? s.dims[0] != rows : s.dims[0] < rows) {
    inconsistent(path, fmt::format("dataset '{}' has {} rows, attribute 'rows' says {}", name,
                                   s.dims[0], header.rows));
  }
  if (s.maxdims[0] != H5S_UNLIMITED) {
    inconsistent(path, fmt::format("dataset '{}' cannot grow (not written by ntk-select)", name));
  }
  return set;
}

h5::Handle dataset_type(const h5::Handle& set, const char* name, const std::string& path) {
  h5::Handle type(H5Dget_type(set.get()), H5Tclose);
  if (!type.valid()) h5::fail(path, fmt::format("cannot read the type of dataset '{}'", name));
  return type;
}

std::int64_t chunk_height(const h5::Handle& set, const std::string& path) {
  h5::Handle dcpl(H5Dget_create_plist(set.get()), H5Pclose);
  hsize_t chunk[2] = {0, 0};
  if (!dcpl.valid() || H5Pget_layout(dcpl.get()) != H5D_CHUNKED ||
      H5Pget_chunk(dcpl.get(), 2, chunk) != 2 || chunk[0] == 0) {
    inconsistent(path, "dataset 'features' is not chunked by rows (not written by ntk-select)");
  }
  return static_cast<std::int64_t>(chunk[0]);
}

}  // namespace

std::int64_t element_bytes(ElementType t) { return t == ElementType::f16 ? 2 : 4; }

std::int64_t auto_chunk_rows(std::int64_t dim, ElementType t) {
  return std::max<std::int64_t>(1, kTargetChunkBytes / (dim * element_bytes(t)));
}

std::string incomplete_message(const std::string& path) {
  return fmt::format(
      "{}: incomplete (written by a run that did not finish; no completion marker)", path);
}

Datasets create(hid_t file, const FeatureFileSpec& spec, const std::string& path) {
  h5::write_string_attr(file, attr::kFormat, kFormat, path);
  h5::write_int_attr(file, attr::kFormatVersion, kFormatVersion, H5T_STD_I32LE, path);
  h5::write_int_attr(file, attr::kDim, spec.dim, H5T_STD_I64LE, path);
  h5::write_string_attr(file, attr::kDtype, to_string(spec.dtype), path);
  h5::write_string_attr(file, attr::kKind, spec.kind, path);
  h5::write_string_attr(file, attr::kMetadata, spec.metadata_json, path);
  h5::write_int_attr(file, attr::kRows, 0, H5T_STD_I64LE, path);
  h5::write_int_attr(file, attr::kComplete, 0, H5T_STD_I32LE, path);

  h5::Handle half = h5::half_type();
  h5::Handle utf8 = h5::utf8_string_type();
  const hid_t feature_type = spec.dtype == ElementType::f16 ? half.get() : H5T_IEEE_F32LE;
  Datasets sets;
  // Every row is written before it is counted, so fill values would only cost time;
  // variable-length strings need theirs (a null string), so ids keep the default.
  sets.features = create_dataset(file, dataset::kFeatures, feature_type, 2,
                                 static_cast<hsize_t>(spec.dim),
                                 static_cast<hsize_t>(spec.chunk_rows), false, path);
  sets.keys = create_dataset(file, dataset::kKeys, H5T_STD_U64LE, 1, 1, kIndexChunkRows, false, path);
  sets.ids = create_dataset(file, dataset::kIds, utf8.get(), 1, 1, kIndexChunkRows, true, path);
  sets.indices = create_dataset(file, dataset::kIndices, H5T_STD_I64LE, 1, 1, kIndexChunkRows, false, path);
  sets.tokens = create_dataset(file, dataset::kTokens, H5T_STD_I64LE, 1, 1, kIndexChunkRows, false, path);
  return sets;
}

Header read_header(hid_t file, const std::string& path) {
  const auto format = h5::read_string_attr(file, attr::kFormat, path);
  if (!format) {
    throw InputError(
        fmt::format("{}: not an ntk-select feature file (no '{}' attribute)", path, attr::kFormat));
  }
  if (*format != kFormat) {
    throw InputError(fmt::format("{}: not an ntk-select feature file (format '{}', expected '{}')",
                                 path, *format, kFormat));
  }
  const auto version = h5::read_int_attr(file, attr::kFormatVersion, path);
  if (!version) malformed(path, fmt::format("no '{}' attribute", attr::kFormatVersion));
  if (*version != kFormatVersion) {
    throw InputError(fmt::format(
        "{}: feature file format_version {} is not supported (this build reads version {})", path,
        *version, kFormatVersion));
  }

  auto need_int = [&](const char* name) {
    const auto v = h5::read_int_attr(file, name, path);
    if (!v) malformed(path, fmt::format("no '{}' attribute", name));
    return *v;
  };
  auto need_string = [&](const char* name) {
    auto v = h5::read_string_attr(file, name, path);
    if (!v) malformed(path, fmt::format("no '{}' attribute", name));
    return std::move(*v);
  };

  Header h;
  h.spec.dim = need_int(attr::kDim);
  if (h.spec.dim <= 0) malformed(path, fmt::format("'{}' is {}, expected > 0", attr::kDim, h.spec.dim));
  const std::string dtype = need_string(attr::kDtype);
  if (dtype == "f32") {
    h.spec.dtype = ElementType::f32;
  } else if (dtype == "f16") {
    h.spec.dtype = ElementType::f16;
  } else {
    malformed(path, fmt::format("'{}' is '{}', expected 'f32' or 'f16'", attr::kDtype, dtype));
  }
  h.spec.kind = need_string(attr::kKind);
  h.spec.metadata_json = need_string(attr::kMetadata);
  h.rows = need_int(attr::kRows);
  if (h.rows < 0) malformed(path, fmt::format("'{}' is {}, expected >= 0", attr::kRows, h.rows));
  if (const auto reused = h5::read_int_attr(file, attr::kReusedRows, path)) {
    if (*reused < 0 || *reused > h.rows)
      malformed(path, fmt::format("'{}' is {}, expected 0 to rows ({})", attr::kReusedRows, *reused, h.rows));
    h.reused_rows = *reused;
  }
  const std::int64_t complete = need_int(attr::kComplete);
  if (complete != 0 && complete != 1) {
    malformed(path, fmt::format("'{}' is {}, expected 0 or 1", attr::kComplete, complete));
  }
  h.complete = complete == 1;
  return h;
}

Datasets open(hid_t file, Header& header, const std::string& path, Extent extent) {
  Datasets sets;
  sets.features = open_dataset(file, dataset::kFeatures, 2, header, extent, path);
  h5::Handle type = dataset_type(sets.features, dataset::kFeatures, path);
  const bool type_ok =
      header.spec.dtype == ElementType::f16
          ? H5Tequal(type.get(), h5::half_type().get()) > 0
          : H5Tget_class(type.get()) == H5T_FLOAT && H5Tget_size(type.get()) == 4;
  if (!type_ok) {
    inconsistent(path, fmt::format("dataset 'features' holds {}, attribute 'dtype' says '{}'",
                                   h5::describe_type(type.get()), to_string(header.spec.dtype)));
  }
  header.spec.chunk_rows = chunk_height(sets.features, path);
  // Reopen with a chunk cache sized for this file's chunks.
  const std::int64_t chunk_bytes =
      header.spec.chunk_rows * header.spec.dim * element_bytes(header.spec.dtype);
  h5::Handle dapl = h5::dataset_access(chunk_bytes);
  sets.features.reset();
  sets.features = open_dataset(file, dataset::kFeatures, 2, header, extent, path, dapl.get());

  // The per-row integer datasets: 8-byte integers of the given signedness.
  const auto open_int = [&](const char* name, bool is_signed) {
    h5::Handle set = open_dataset(file, name, 1, header, extent, path);
    h5::Handle t = dataset_type(set, name, path);
    if (H5Tget_class(t.get()) != H5T_INTEGER || H5Tget_size(t.get()) != 8 ||
        (H5Tget_sign(t.get()) == H5T_SGN_2) != is_signed) {
      inconsistent(path, fmt::format("dataset '{}' holds {}, expected {} integers of 8 bytes", name,
                                     h5::describe_type(t.get()), is_signed ? "signed" : "unsigned"));
    }
    return set;
  };
  sets.keys = open_int(dataset::kKeys, false);
  sets.indices = open_int(dataset::kIndices, true);
  sets.tokens = open_int(dataset::kTokens, true);

  sets.ids = open_dataset(file, dataset::kIds, 1, header, extent, path);
  type = dataset_type(sets.ids, dataset::kIds, path);
  if (H5Tget_class(type.get()) != H5T_STRING || H5Tis_variable_str(type.get()) <= 0) {
    inconsistent(path, fmt::format("dataset 'ids' holds {}, expected variable-length strings",
                                   h5::describe_type(type.get())));
  }
  return sets;
}

bool resize(const Datasets& sets, std::int64_t rows) {
  const auto n = static_cast<hsize_t>(rows);
  h5::Handle space(H5Dget_space(sets.features.get()), H5Sclose);
  hsize_t dims[2] = {0, 0};
  if (!space.valid() || H5Sget_simple_extent_dims(space.get(), dims, nullptr) != 2) return false;
  const hsize_t feature_dims[2] = {n, dims[1]};
  return H5Dset_extent(sets.features.get(), feature_dims) >= 0 &&
         H5Dset_extent(sets.keys.get(), &n) >= 0 && H5Dset_extent(sets.ids.get(), &n) >= 0 &&
         H5Dset_extent(sets.indices.get(), &n) >= 0 && H5Dset_extent(sets.tokens.get(), &n) >= 0;
}

std::optional<Selection> select_rows(hid_t dataset, std::int64_t begin, std::int64_t count) {
  Selection sel;
  sel.file_space = h5::Handle(H5Dget_space(dataset), H5Sclose);
  if (!sel.file_space.valid()) return std::nullopt;
  hsize_t dims[2] = {0, 0};
  const int rank = H5Sget_simple_extent_dims(sel.file_space.get(), dims, nullptr);
  if (rank != 1 && rank != 2) return std::nullopt;
  const hsize_t start[2] = {static_cast<hsize_t>(begin), 0};
  const hsize_t counts[2] = {static_cast<hsize_t>(count), dims[1]};
  if (H5Sselect_hyperslab(sel.file_space.get(), H5S_SELECT_SET, start, nullptr, counts, nullptr) < 0) {
    return std::nullopt;
  }
  sel.mem_space = h5::Handle(H5Screate_simple(rank, counts, nullptr), H5Sclose);
  if (!sel.mem_space.valid()) return std::nullopt;
  return sel;
}

}  // namespace layout
}  // namespace ntks::store
