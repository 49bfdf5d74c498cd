// What FeatureReader does with files it must not trust, and what the writer
// and reader do with arguments a caller got wrong.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "ntks/store/feature_file.h"
#include "ntks/util/error.h"
#include "test_store_support.h"

namespace fs = std::filesystem;
using ntks::store::ElementType;
using ntks::store::FeatureFileSpec;
using ntks::store::FeatureReader;
using ntks::store::FeatureWriter;
using namespace ntks::testing;

namespace {

FeatureFileSpec small_spec(ElementType dtype = ElementType::f32) {
  FeatureFileSpec spec;
  spec.dim = 24;
  spec.dtype = dtype;
  spec.chunk_rows = 16;
  spec.kind = "embeddings";
  spec.metadata_json = R"({"fingerprint":"abc123"})";
  return spec;
}

// The message of the InputError that opening (and reading all of) `path` throws.
std::string store_open_error(const std::string& path) {
  return error_of<ntks::InputError>([&] { read_all(path); });
}

class StoreReaderErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    write_file(good_, small_spec(), make_blocks({50, 50, 37}, 24));
  }
  // A copy of the good file to damage.
  std::string copy(const std::string& name) {
    const std::string path = dir_.file(name);
    fs::copy_file(good_, path);
    return path;
  }
  TempDir dir_;
  std::string good_ = dir_.file("good.h5");
};

TEST_F(StoreReaderErrors, MissingFile) {
  const std::string path = dir_.file("nothing.h5");
  expect_contains(store_open_error(path), path + ": no such file");
  // an unfinished run left only the partial
  auto w = FeatureWriter::create(path, small_spec());
  const std::string msg = store_open_error(path);
  expect_contains(msg, "nothing.h5.partial exists");
  expect_contains(msg, "did not finish");
}

TEST_F(StoreReaderErrors, NotHdf5) {
  const std::string text = dir_.write("text.h5", "{\"this\": \"is json, not HDF5\"}\n");
  expect_contains(store_open_error(text), "text.h5: not an HDF5 file");
  const std::string empty = dir_.write("empty.h5", "");
  expect_contains(store_open_error(empty), "empty.h5: empty file");
  expect_contains(store_open_error(dir_.path().string()), "not a regular file");
}

TEST_F(StoreReaderErrors, EveryTruncatedCopyIsRejected) {
  std::ifstream in(good_, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 10000u);
  std::vector<std::size_t> lengths = {0, 1, 7, 8, 9, 64, 95, 96, 512, 800, 1024, 2048, 4096,
                                      bytes.size() - 4096, bytes.size() - 100, bytes.size() - 1};
  for (std::size_t k = 1; k < 40; ++k) lengths.push_back(bytes.size() * k / 40);
  const std::string path = dir_.file("truncated.h5");
  for (std::size_t n : lengths) {
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out.write(bytes.data(), static_cast<std::streamsize>(n));
    }
    try {
      read_all(path);
      ADD_FAILURE() << "a copy truncated to " << n << " of " << bytes.size() << " bytes was read";
    } catch (const ntks::InputError& e) {
      expect_contains(e.what(), path);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "truncated to " << n << " bytes: not an InputError: " << e.what();
    }
  }
  // the untouched file still reads
  EXPECT_EQ(read_all(good_).data.n, 137);
}

TEST_F(StoreReaderErrors, TruncatedFileMessage) {
  const std::string path = copy("cut.h5");
  fs::resize_file(path, fs::file_size(path) / 2);
  expect_contains(store_open_error(path), "cut.h5: truncated or corrupt HDF5 file");
}

TEST_F(StoreReaderErrors, ForeignHdf5) {
  const std::string path = dir_.file("foreign.h5");
  {
    hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    const hsize_t dims[2] = {10, 4};
    hid_t space = H5Screate_simple(2, dims, nullptr);
    hid_t set = H5Dcreate2(file, "features", H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT,
                           H5P_DEFAULT);
    H5Dclose(set);
    H5Sclose(space);
    H5Fclose(file);
  }
  expect_contains(store_open_error(path),
                  "foreign.h5: not an ntk-select feature file (no 'format' attribute)");
  set_string_attr(path, "format", "some-other-tool");
  expect_contains(store_open_error(path), "format 'some-other-tool', expected 'ntks-features'");
}

TEST_F(StoreReaderErrors, NoCompletionMarker) {
  const std::string path = copy("unfinished.h5");
  set_int_attr(path, "complete", 0);
  const std::string msg = store_open_error(path);
  expect_contains(msg, "unfinished.h5: incomplete");
  expect_contains(msg, "no completion marker");

  // the partial of a live writer, named directly
  auto w = FeatureWriter::create(dir_.file("live.h5"), small_spec());
  expect_contains(store_open_error(dir_.file("live.h5.partial")), "live.h5.partial: incomplete");
}

TEST_F(StoreReaderErrors, WrongVersion) {
  const std::string path = copy("future.h5");
  set_int_attr(path, "format_version", 3);
  expect_contains(store_open_error(path), "future.h5: feature file format_version 3 is not supported "
                                    "(this build reads version 2)");
}

TEST_F(StoreReaderErrors, MissingOrMistypedAttributes) {
  std::string path = copy("no_dim.h5");
  delete_attr(path, "dim");
  expect_contains(store_open_error(path), "no_dim.h5: malformed feature file: no 'dim' attribute");

  path = copy("string_rows.h5");
  set_string_attr(path, "rows", "137");
  expect_contains(store_open_error(path), "attribute 'rows' has type");

  path = copy("int_kind.h5");
  set_int_attr(path, "kind", 3);
  expect_contains(store_open_error(path), "attribute 'kind' has type integer of 8 bytes, expected a string");

  path = copy("bad_dtype.h5");
  set_string_attr(path, "dtype", "bf16");
  expect_contains(store_open_error(path), "'dtype' is 'bf16', expected 'f32' or 'f16'");
}

TEST_F(StoreReaderErrors, ShapesInconsistentWithAttributes) {
  std::string path = copy("more_rows.h5");
  set_int_attr(path, "rows", 138);
  expect_contains(store_open_error(path),
                  "more_rows.h5: inconsistent feature file: dataset 'features' has 137 rows, "
                  "attribute 'rows' says 138");

  path = copy("fewer_rows.h5");  // what an unfinished append leaves, in a file marked complete
  set_int_attr(path, "rows", 136);
  expect_contains(store_open_error(path), "dataset 'features' has 137 rows, attribute 'rows' says 136");

  path = copy("other_dim.h5");
  set_int_attr(path, "dim", 25);
  expect_contains(store_open_error(path), "dataset 'features' has 24 columns, attribute 'dim' says 25");

  path = copy("claims_f16.h5");
  set_string_attr(path, "dtype", "f16");
  expect_contains(store_open_error(path), "dataset 'features' holds float of 4 bytes, attribute 'dtype' says 'f16'");
}

TEST_F(StoreReaderErrors, OutOfRangeReads) {
  FeatureReader r(good_);
  std::vector<float> out(static_cast<std::size_t>(200 * r.dim()));
  EXPECT_THROW(r.read_rows(-1, 1, out.data()), ntks::InternalError);
  EXPECT_THROW(r.read_rows(0, 138, out.data()), ntks::InternalError);
  EXPECT_THROW(r.read_rows(137, 1, out.data()), ntks::InternalError);
  EXPECT_THROW(r.read_rows(130, 8, out.data()), ntks::InternalError);
  EXPECT_THROW(r.read_rows(5, -1, out.data()), ntks::InternalError);
  EXPECT_THROW(r.keys(136, 2), ntks::InternalError);
  EXPECT_THROW(r.ids(-3, 1), ntks::InternalError);
  const std::string msg = error_of<ntks::InternalError>([&] { r.read_rows(130, 8, out.data()); });
  expect_contains(msg, "rows [130, 138) requested, the file has 137 rows");
  // the edges are fine
  r.read_rows(130, 7, out.data());
  r.read_rows(137, 0, out.data());
  EXPECT_EQ(r.ids(136, 1).size(), 1u);
}

TEST(StoreWriterMisuse, ArgumentsAreChecked) {
  TempDir dir;
  FeatureFileSpec spec = small_spec();
  spec.dim = 0;
  EXPECT_THROW(FeatureWriter::create(dir.file("a.h5"), spec), ntks::InternalError);
  spec = small_spec();
  spec.metadata_json = "{not json";
  EXPECT_THROW(FeatureWriter::create(dir.file("a.h5"), spec), ntks::InternalError);
  spec = small_spec();
  spec.chunk_rows = -1;
  EXPECT_THROW(FeatureWriter::create(dir.file("a.h5"), spec), ntks::InternalError);

  const std::string msg = error_of<ntks::InputError>(
      [&] { FeatureWriter::create(dir.file("no/such/dir/a.h5"), small_spec()); });
  expect_contains(msg, "no/such/dir/a.h5.partial: cannot create");

  auto w = FeatureWriter::create(dir.file("a.h5"), small_spec());
  Block b = make_block(0, 4, 24);
  b.ids.pop_back();
  EXPECT_THROW(w.append(b.rows.data(), 4, b.keys.data(), b.ids, b.indices.data(), b.tokens.data()), ntks::InternalError);
  b = make_block(0, 4, 24);
  b.ids[2] = std::string("with\0nul", 8);
  EXPECT_THROW(append(w, b), ntks::InternalError);
  EXPECT_EQ(w.rows(), 0);
  append(w, make_block(0, 4, 24));
  w.finalize();
  EXPECT_THROW(append(w, make_block(4, 1, 24)), ntks::InternalError);
  EXPECT_THROW(w.finalize(), ntks::InternalError);
  EXPECT_EQ(read_all(dir.file("a.h5")).data.n, 4);
}

}  // namespace

namespace {

TEST_F(StoreReaderErrors, MissingOrMistypedRowColumns) {
  for (const char* name : {"indices", "tokens"}) {
    const std::string path = copy(std::string("no_") + name + ".h5");
    hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(file, 0);
    ASSERT_GE(H5Ldelete(file, name, H5P_DEFAULT), 0);
    ASSERT_GE(H5Fclose(file), 0);
    expect_contains(store_open_error(path), std::string("malformed feature file: no dataset '") + name + "'");
  }
}

}  // namespace
