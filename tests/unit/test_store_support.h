#pragma once
// Helpers shared by the store tests: deterministic sample blocks, whole-file
// reads for comparisons, and direct HDF5 edits that damage a file the way a
// crash, a foreign tool or a newer version would.

#include <hdf5.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "ntks/store/feature_file.h"
#include "test_util.h"

namespace ntks::testing {

/// Rows, keys and ids for one append().
struct Block {
  std::int64_t n = 0;
  std::vector<float> rows;
  std::vector<std::uint64_t> keys;
  std::vector<std::string> ids;
  std::vector<std::int64_t> indices;  ///< global record index: 3 * row + 1 (gaps, as skipped lines leave)
  std::vector<std::int64_t> tokens;   ///< row % 97 + 1
};

inline std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/// n rows of width dim for global rows [first, first+n); values span several binades and
/// signs, keys use all 64 bits, ids include multi-byte UTF-8 and an empty id.
inline Block make_block(std::int64_t first, std::int64_t n, std::int64_t dim) {
  Block b;
  b.n = n;
  for (std::int64_t i = first; i < first + n; ++i) {
    for (std::int64_t j = 0; j < dim; ++j) {
      const std::uint64_t h = splitmix64(static_cast<std::uint64_t>(i * 1000003 + j));
      const float mantissa = static_cast<float>(h % 2000001) / 1000000.0f - 1.0f;  // [-1, 1]
      const int exponent = static_cast<int>((h >> 32) % 24) - 12;                   // 2^-12 .. 2^11
      b.rows.push_back(std::ldexp(mantissa, exponent));
    }
    b.indices.push_back(3 * i + 1);
    b.tokens.push_back(i % 97 + 1);
    b.keys.push_back(splitmix64(static_cast<std::uint64_t>(i)) | (i % 2 ? 0x8000000000000000ull : 0));
    if (i == 3) {
      b.ids.emplace_back("");
    } else if (i % 5 == 0) {
      b.ids.push_back("échantillon-" + std::to_string(i) + "-日本語");
    } else {
      b.ids.push_back("sample-" + std::to_string(i));
    }
  }
  return b;
}

/// Blocks of the given sizes, numbered consecutively from row 0.
inline std::vector<Block> make_blocks(const std::vector<std::int64_t>& sizes, std::int64_t dim) {
  std::vector<Block> blocks;
  std::int64_t first = 0;
  for (std::int64_t n : sizes) {
    blocks.push_back(make_block(first, n, dim));
    first += n;
  }
  return blocks;
}

/// All blocks concatenated.
inline Block concat(const std::vector<Block>& blocks) {
  Block all;
  for (const Block& b : blocks) {
    all.n += b.n;
    all.rows.insert(all.rows.end(), b.rows.begin(), b.rows.end());
    all.keys.insert(all.keys.end(), b.keys.begin(), b.keys.end());
    all.ids.insert(all.ids.end(), b.ids.begin(), b.ids.end());
    all.indices.insert(all.indices.end(), b.indices.begin(), b.indices.end());
    all.tokens.insert(all.tokens.end(), b.tokens.begin(), b.tokens.end());
  }
  return all;
}

inline void append(store::FeatureWriter& w, const Block& b) {
  w.append(b.rows.data(), b.n, b.keys.data(), b.ids, b.indices.data(), b.tokens.data());
}

/// Writes and finalizes a file holding `blocks`.
inline void write_file(const std::string& path, const store::FeatureFileSpec& spec,
                       const std::vector<Block>& blocks) {
  auto w = store::FeatureWriter::create(path, spec);
  for (const Block& b : blocks) append(w, b);
  w.finalize();
}

/// Everything a reader returns, for whole-file comparisons.
struct Contents {
  std::int64_t dim = 0;
  store::ElementType dtype = store::ElementType::f32;
  std::string kind;
  std::string metadata;
  Block data;
};

inline Contents read_all(const std::string& path) {
  store::FeatureReader r(path);
  Contents c;
  c.dim = r.dim();
  c.dtype = r.dtype();
  c.kind = r.kind();
  c.metadata = r.metadata_json();
  c.data.n = r.rows();
  c.data.rows.resize(static_cast<std::size_t>(r.rows() * r.dim()));
  r.read_rows(0, r.rows(), c.data.rows.data());
  c.data.keys = r.keys(0, r.rows());
  c.data.ids = r.ids(0, r.rows());
  c.data.indices = r.indices(0, r.rows());
  c.data.tokens = r.tokens(0, r.rows());
  return c;
}

/// Float vectors equal bit for bit (NaN payloads and the sign of zero included).
inline bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

inline void expect_same_contents(const Contents& a, const Contents& b) {
  EXPECT_EQ(a.dim, b.dim);
  EXPECT_EQ(a.dtype, b.dtype);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.metadata, b.metadata);
  EXPECT_EQ(a.data.n, b.data.n);
  EXPECT_TRUE(same_bits(a.data.rows, b.data.rows));
  EXPECT_EQ(a.data.keys, b.data.keys);
  EXPECT_EQ(a.data.ids, b.data.ids);
  EXPECT_EQ(a.data.indices, b.data.indices);
  EXPECT_EQ(a.data.tokens, b.data.tokens);
}

// --- direct HDF5 edits -------------------------------------------------------

/// Replaces root attribute `name` of `path` by a scalar of `type` holding `value`
/// (written through `mem_type`).
inline void replace_attr(const std::string& path, const char* name, hid_t type, hid_t mem_type,
                         const void* value) {
  hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(file, 0) << path;
  if (H5Aexists(file, name) > 0) {
    ASSERT_GE(H5Adelete(file, name), 0);
  }
  hid_t space = H5Screate(H5S_SCALAR);
  hid_t attr = H5Acreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(attr, 0);
  ASSERT_GE(H5Awrite(attr, mem_type, value), 0);
  H5Aclose(attr);
  H5Sclose(space);
  ASSERT_GE(H5Fclose(file), 0);
}

inline void set_int_attr(const std::string& path, const char* name, std::int64_t value) {
  replace_attr(path, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
}

inline void set_string_attr(const std::string& path, const char* name, const std::string& value) {
  hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, H5T_VARIABLE);
  const char* text = value.c_str();
  replace_attr(path, name, type, type, &text);
  H5Tclose(type);
}

inline void delete_attr(const std::string& path, const char* name) {
  hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(file, 0) << path;
  ASSERT_GE(H5Adelete(file, name), 0) << name;
  ASSERT_GE(H5Fclose(file), 0);
}

/// What a kill in the middle of an append leaves: every dataset `extra` rows longer,
/// holding garbage, and the `rows` attribute not yet updated.
inline void grow_with_garbage(const std::string& path, std::int64_t extra) {
  hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(file, 0) << path;
  for (const char* name : {"features", "keys", "ids"}) {
    hid_t set = H5Dopen2(file, name, H5P_DEFAULT);
    ASSERT_GE(set, 0) << name;
    hid_t space = H5Dget_space(set);
    hsize_t dims[2] = {0, 1};
    const int rank = H5Sget_simple_extent_dims(space, dims, nullptr);
    H5Sclose(space);
    const hsize_t old_rows = dims[0];
    dims[0] += static_cast<hsize_t>(extra);
    ASSERT_GE(H5Dset_extent(set, dims), 0) << name;
    space = H5Dget_space(set);
    const hsize_t start[2] = {old_rows, 0};
    const hsize_t count[2] = {static_cast<hsize_t>(extra), rank == 2 ? dims[1] : 1};
    H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nullptr, count, nullptr);
    hid_t mem = H5Screate_simple(rank, count, nullptr);
    const auto n = static_cast<std::size_t>(count[0] * count[1]);
    if (std::string(name) == "ids") {
      hid_t type = H5Dget_type(set);
      std::vector<const char*> junk(n, "garbage");
      ASSERT_GE(H5Dwrite(set, type, mem, space, H5P_DEFAULT, junk.data()), 0);
      H5Tclose(type);
    } else if (std::string(name) == "keys") {
      std::vector<std::uint64_t> junk(n, 0xdeadbeefull);
      ASSERT_GE(H5Dwrite(set, H5T_NATIVE_UINT64, mem, space, H5P_DEFAULT, junk.data()), 0);
    } else {
      std::vector<float> junk(n, 12345.0f);
      ASSERT_GE(H5Dwrite(set, H5T_NATIVE_FLOAT, mem, space, H5P_DEFAULT, junk.data()), 0);
    }
    H5Sclose(mem);
    H5Sclose(space);
    H5Dclose(set);
  }
  ASSERT_GE(H5Fclose(file), 0);
}

}  // namespace ntks::testing
