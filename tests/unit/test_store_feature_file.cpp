// FeatureWriter / FeatureReader: round trips in f32 and f16, block appends,
// the .partial -> final rename, and resume() after an interrupted run.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>

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

FeatureFileSpec spec_of(std::int64_t dim, ElementType dtype, std::int64_t chunk_rows = 8) {
  FeatureFileSpec spec;
  spec.dim = dim;
  spec.dtype = dtype;
  spec.chunk_rows = chunk_rows;
  spec.kind = "grads";
  spec.metadata_json = R"({"model":"qwen3-0.6b","projection":{"dim":8192,"seed":7}})";
  return spec;
}

// Blocks of uneven sizes that straddle 8-row chunks, with an empty append inside.
const std::vector<std::int64_t> kBlockSizes = {1, 7, 0, 20, 3, 33, 8};

TEST(StoreFeatureFile, Float32RoundTripInBlocks) {
  TempDir dir;
  const std::string path = dir.file("embeddings.h5");
  const std::int64_t dim = 5;
  const auto blocks = make_blocks(kBlockSizes, dim);
  const Block all = concat(blocks);
  write_file(path, spec_of(dim, ElementType::f32), blocks);

  FeatureReader r(path);
  EXPECT_EQ(r.rows(), all.n);
  EXPECT_EQ(r.dim(), dim);
  EXPECT_EQ(r.dtype(), ElementType::f32);
  EXPECT_EQ(r.kind(), "grads");
  EXPECT_EQ(r.metadata_json(), spec_of(dim, ElementType::f32).metadata_json);
  const Contents c = read_all(path);
  EXPECT_TRUE(same_bits(c.data.rows, all.rows));
  EXPECT_EQ(c.data.keys, all.keys);
  EXPECT_EQ(c.data.ids, all.ids);
  EXPECT_EQ(c.data.ids[3], "");
  EXPECT_EQ(c.data.ids[5], "échantillon-5-日本語");

  // a range that starts and ends inside chunks
  std::vector<float> part(static_cast<std::size_t>(13 * dim));
  r.read_rows(6, 13, part.data());
  EXPECT_TRUE(same_bits(part, std::vector<float>(all.rows.begin() + 6 * dim,
                                                 all.rows.begin() + 19 * dim)));
  EXPECT_EQ(r.keys(6, 13), std::vector<std::uint64_t>(all.keys.begin() + 6, all.keys.begin() + 19));
  EXPECT_EQ(r.ids(6, 13), std::vector<std::string>(all.ids.begin() + 6, all.ids.begin() + 19));
  EXPECT_TRUE(r.keys(all.n, 0).empty());
}

TEST(StoreFeatureFile, Float16RoundTripRoundsToNearestEven) {
  TempDir dir;
  const std::string path = dir.file("grads.h5");
  const std::int64_t dim = 4;
  auto blocks = make_blocks(kBlockSizes, dim);
  // overflow, subnormals, underflow, ties, signed zero and NaN in the first block
  blocks[0].rows = {70000.0f, std::ldexp(3.0f, -25), std::ldexp(1.0f, -26),
                    1.0f + std::ldexp(1.0f, -11)};
  blocks[1].rows[0] = -0.0f;
  blocks[1].rows[1] = std::numeric_limits<float>::quiet_NaN();
  blocks[1].rows[2] = -std::numeric_limits<float>::infinity();
  const Block all = concat(blocks);
  write_file(path, spec_of(dim, ElementType::f16), blocks);

  const Contents c = read_all(path);
  EXPECT_EQ(c.dtype, ElementType::f16);
  ASSERT_EQ(c.data.rows.size(), all.rows.size());
  std::vector<float> expected;
  for (float x : all.rows) expected.push_back(ntks::store::half_to_float(ntks::store::float_to_half(x)));
  EXPECT_TRUE(same_bits(c.data.rows, expected));
  EXPECT_EQ(c.data.rows[0], std::numeric_limits<float>::infinity());
  EXPECT_EQ(c.data.rows[1], std::ldexp(1.0f, -23));  // 1.5 * 2^-24 ties to even 2 * 2^-24
  EXPECT_EQ(c.data.rows[2], 0.0f);
  EXPECT_EQ(c.data.rows[3], 1.0f);
  EXPECT_TRUE(std::signbit(c.data.rows[4]));
  EXPECT_TRUE(std::isnan(c.data.rows[5]));
  // everything else within half an ulp of fp16 (relative 2^-11) of the input
  for (std::size_t i = 7; i < all.rows.size(); ++i) {
    const float x = all.rows[i];
    if (std::fabs(x) >= std::ldexp(1.0f, -14)) {
      EXPECT_LE(std::fabs(c.data.rows[i] - x), std::ldexp(std::fabs(x), -11)) << i;
    }
  }
  EXPECT_EQ(c.data.keys, all.keys);
  EXPECT_EQ(c.data.ids, all.ids);

  // a range read in several conversion blocks gives the same values
  std::vector<float> part(static_cast<std::size_t>(30 * dim));
  FeatureReader(path).read_rows(40, 30, part.data());
  EXPECT_TRUE(same_bits(part, std::vector<float>(expected.begin() + 40 * dim,
                                                 expected.begin() + 70 * dim)));
}

TEST(StoreFeatureFile, ZeroRowFile) {
  TempDir dir;
  const std::string path = dir.file("empty.h5");
  write_file(path, spec_of(16, ElementType::f16), {});
  FeatureReader r(path);
  EXPECT_EQ(r.rows(), 0);
  EXPECT_EQ(r.dim(), 16);
  r.read_rows(0, 0, nullptr);
  EXPECT_TRUE(r.keys(0, 0).empty());
  EXPECT_TRUE(r.ids(0, 0).empty());
  float row[16];
  EXPECT_THROW(r.read_rows(0, 1, row), ntks::InternalError);
}

TEST(StoreFeatureFile, NothingAtPathUntilFinalize) {
  TempDir dir;
  const std::string path = dir.file("candidates-00000-of-00002.h5");
  const std::string partial = path + ".partial";
  auto w = FeatureWriter::create(path, spec_of(3, ElementType::f32));
  EXPECT_FALSE(fs::exists(path));
  EXPECT_TRUE(fs::exists(partial));
  append(w, make_block(0, 10, 3));
  EXPECT_FALSE(fs::exists(path));
  EXPECT_EQ(w.rows(), 10);
  w.finalize();
  EXPECT_TRUE(fs::exists(path));
  EXPECT_FALSE(fs::exists(partial));
  EXPECT_EQ(FeatureReader(path).rows(), 10);
  EXPECT_EQ(w.rows(), 10);
}

TEST(StoreFeatureFile, CreateReplacesStalePartialAndFinalizeReplacesOldFile) {
  TempDir dir;
  const std::string path = dir.file("f.h5");
  dir.write("f.h5.partial", "left over from a crashed run of an older version");
  write_file(path, spec_of(2, ElementType::f32), make_blocks({5}, 2));
  write_file(path, spec_of(2, ElementType::f32), make_blocks({3}, 2));
  EXPECT_EQ(FeatureReader(path).rows(), 3);
}

TEST(StoreFeatureFile, AutoChunkRowsAndMovedWriter) {
  TempDir dir;
  FeatureFileSpec spec = spec_of(8192, ElementType::f32, 0);
  auto w = FeatureWriter::create(dir.file("a.h5"), spec);
  EXPECT_EQ(w.spec().chunk_rows, 32);  // 1 MiB / (8192 * 4 bytes)
  spec.dtype = ElementType::f16;
  EXPECT_EQ(FeatureWriter::create(dir.file("b.h5"), spec).spec().chunk_rows, 64);
  spec = spec_of(1 << 19, ElementType::f32, 0);  // one row is 2 MiB
  EXPECT_EQ(FeatureWriter::create(dir.file("c.h5"), spec).spec().chunk_rows, 1);

  FeatureWriter moved = std::move(w);
  append(moved, make_block(0, 3, 8192));
  moved.finalize();
  EXPECT_EQ(FeatureReader(dir.file("a.h5")).rows(), 3);
}

// --- resume ------------------------------------------------------------------

class StoreResume : public ::testing::TestWithParam<ElementType> {
 protected:
  static constexpr std::int64_t kDim = 6;
  TempDir dir_;
  std::vector<Block> blocks_ = make_blocks({4, 9, 1, 17, 6}, kDim);

  // The same blocks written without interruption.
  Contents uninterrupted() {
    const std::string path = dir_.file("reference.h5");
    write_file(path, spec_of(kDim, GetParam()), blocks_);
    return read_all(path);
  }
};

TEST_P(StoreResume, AfterWriterDestroyedWithoutFinalize) {
  const std::string path = dir_.file("grads.h5");
  {
    auto w = FeatureWriter::create(path, spec_of(kDim, GetParam()));
    for (int i = 0; i < 3; ++i) append(w, blocks_[i]);
  }
  EXPECT_FALSE(fs::exists(path));
  ASSERT_TRUE(fs::exists(path + ".partial"));

  auto w = FeatureWriter::resume(path);
  EXPECT_EQ(w.rows(), 14);
  EXPECT_EQ(w.last_index(), 3 * 13 + 1);  // make_block's index of row 13
  EXPECT_EQ(w.spec().dim, kDim);
  EXPECT_EQ(w.spec().dtype, GetParam());
  EXPECT_EQ(w.spec().chunk_rows, 8);
  EXPECT_EQ(w.spec().kind, "grads");
  EXPECT_EQ(w.spec().metadata_json, spec_of(kDim, GetParam()).metadata_json);
  append(w, blocks_[3]);
  append(w, blocks_[4]);
  w.finalize();
  expect_same_contents(read_all(path), uninterrupted());
}

TEST_P(StoreResume, DropsRowsOfAnInterruptedAppend) {
  const std::string path = dir_.file("grads.h5");
  {
    auto w = FeatureWriter::create(path, spec_of(kDim, GetParam()));
    for (int i = 0; i < 2; ++i) append(w, blocks_[i]);
  }
  // killed mid-append: datasets extended and partly written, `rows` not yet updated
  grow_with_garbage(path + ".partial", 11);

  auto w = FeatureWriter::resume(path);
  EXPECT_EQ(w.rows(), 13);
  EXPECT_EQ(w.last_index(), 3 * 12 + 1);  // not the garbage rows' values
  for (int i = 2; i < 5; ++i) append(w, blocks_[i]);
  w.finalize();
  expect_same_contents(read_all(path), uninterrupted());
}

TEST_P(StoreResume, AfterTheProcessWasKilled) {
  const std::string path = dir_.file("grads.h5");
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // No destructor, no close: the process dies right after its third append.
    try {
      auto w = FeatureWriter::create(path, spec_of(kDim, GetParam()));
      for (int i = 0; i < 3; ++i) append(w, blocks_[i]);
      ::kill(::getpid(), SIGKILL);
    } catch (...) {
    }
    ::_exit(3);  // only if writing failed: never return into the test runner
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
  EXPECT_FALSE(fs::exists(path));

  auto w = FeatureWriter::resume(path);
  EXPECT_EQ(w.rows(), 14);
  EXPECT_EQ(w.last_index(), 3 * 13 + 1);  // make_block's index of row 13
  append(w, blocks_[3]);
  append(w, blocks_[4]);
  w.finalize();
  expect_same_contents(read_all(path), uninterrupted());
}

TEST_P(StoreResume, AfterAnInterruptedFinalize) {
  const std::string path = dir_.file("grads.h5");
  {
    auto w = FeatureWriter::create(path, spec_of(kDim, GetParam()));
    for (const Block& b : blocks_) append(w, b);
  }
  // completion marker written, rename not done
  set_int_attr(path + ".partial", "complete", 1);
  auto w = FeatureWriter::resume(path);
  EXPECT_EQ(w.rows(), 37);
  w.finalize();
  expect_same_contents(read_all(path), uninterrupted());
}

TEST_P(StoreResume, ResumeTwiceAndZeroRows) {
  const std::string path = dir_.file("grads.h5");
  FeatureWriter::create(path, spec_of(kDim, GetParam()));
  EXPECT_EQ(FeatureWriter::resume(path).rows(), 0);
  EXPECT_EQ(FeatureWriter::resume(path).last_index(), -1);
  {
    auto w = FeatureWriter::resume(path);
    append(w, blocks_[0]);
  }
  auto w = FeatureWriter::resume(path);
  EXPECT_EQ(w.rows(), 4);
  for (int i = 1; i < 5; ++i) append(w, blocks_[i]);
  w.finalize();
  expect_same_contents(read_all(path), uninterrupted());
}

INSTANTIATE_TEST_SUITE_P(Dtypes, StoreResume, ::testing::Values(ElementType::f32, ElementType::f16),
                         [](const auto& info) { return std::string(ntks::store::to_string(info.param)); });

TEST(StoreResumeErrors, NothingToResumeOrUntrustworthy) {
  TempDir dir;
  const std::string path = dir.file("g.h5");
  std::string msg = error_of<ntks::InputError>([&] { FeatureWriter::resume(path); });
  EXPECT_NE(msg.find("g.h5.partial: no partial file to resume"), std::string::npos) << msg;

  // a finalized file is not resumable
  write_file(path, spec_of(2, ElementType::f32), make_blocks({3}, 2));
  EXPECT_THROW(FeatureWriter::resume(path), ntks::InputError);

  dir.write("g.h5.partial", "not hdf5 at all");
  msg = error_of<ntks::InputError>([&] { FeatureWriter::resume(path); });
  EXPECT_NE(msg.find("cannot be trusted"), std::string::npos) << msg;

  // a partial cut short by a full disk
  {
    auto w = FeatureWriter::create(path, spec_of(64, ElementType::f32));
    append(w, make_block(0, 100, 64));
  }
  const auto size = fs::file_size(path + ".partial");
  fs::resize_file(path + ".partial", size / 2);
  msg = error_of<ntks::InputError>([&] { FeatureWriter::resume(path); });
  EXPECT_NE(msg.find("cannot be trusted"), std::string::npos) << msg;

  // a partial of another format
  {
    auto w = FeatureWriter::create(path, spec_of(2, ElementType::f32));
  }
  set_int_attr(path + ".partial", "format_version", 9);
  msg = error_of<ntks::InputError>([&] { FeatureWriter::resume(path); });
  EXPECT_NE(msg.find("format_version 9"), std::string::npos) << msg;
}

}  // namespace
