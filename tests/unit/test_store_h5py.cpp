// Independent check: files written by FeatureWriter, opened by h5py with the
// system python (Debian's python3-h5py, not whatever python is on PATH) and
// compared with the appended values and with numpy's own fp16 rounding.

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>

#include "ntks/store/feature_file.h"
#include "test_store_support.h"

using ntks::store::ElementType;
using ntks::store::FeatureFileSpec;
using namespace ntks::testing;

namespace {

const std::string kScript = std::string(NTKS_SOURCE_DIR) + "/tests/scripts/check_store_h5py.py";

bool python_has_h5py() {
  return run_command(kPython + " -c 'import h5py, numpy'").status == 0;
}

// The layout check_store_h5py.py expects (see its docstring).
void write_expected(const std::string& path, const Block& b, std::int64_t dim) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(&b.n), sizeof b.n);
  out.write(reinterpret_cast<const char*>(&dim), sizeof dim);
  out.write(reinterpret_cast<const char*>(b.rows.data()),
            static_cast<std::streamsize>(b.rows.size() * sizeof(float)));
  out.write(reinterpret_cast<const char*>(b.keys.data()),
            static_cast<std::streamsize>(b.keys.size() * sizeof(std::uint64_t)));
  for (std::size_t i = 0; i < b.ids.size(); ++i) out << (i ? "\n" : "") << b.ids[i];
}

// Rows that exercise fp16 rounding: ties, subnormals, underflow, overflow, signed zero, NaN.
std::vector<Block> blocks_with_edge_values(std::int64_t dim) {
  auto blocks = make_blocks({3, 17, 1, 40}, dim);
  const float edge[] = {65519.0f, 65520.0f, -1.0e9f, std::ldexp(3.0f, -25), std::ldexp(1.0f, -25),
                        std::ldexp(1023.5f, -24), 1.0f + std::ldexp(1.0f, -11),
                        1.0f + std::ldexp(3.0f, -11), 2.0f - std::ldexp(1.0f, -11), -0.0f,
                        std::numeric_limits<float>::quiet_NaN(),
                        std::numeric_limits<float>::infinity(), 1.0e-10f, 0.1f, -3.14159265f};
  std::size_t i = 0;
  for (float x : edge) blocks[1].rows[i++ * 3] = x;
  return blocks;
}

class StoreH5py : public ::testing::TestWithParam<ElementType> {
 protected:
  void SetUp() override {
    if (!python_has_h5py()) GTEST_SKIP() << kPython << " cannot import h5py and numpy";
  }
};

TEST_P(StoreH5py, FileReadsBackInH5py) {
  TempDir dir;
  const std::int64_t dim = 7;
  FeatureFileSpec spec;
  spec.dim = dim;
  spec.dtype = GetParam();
  spec.chunk_rows = 16;
  spec.kind = "grads";
  spec.metadata_json = R"({"checkpoint":"sha256:00ff","seed":3})";
  const auto blocks = blocks_with_edge_values(dim);
  const Block all = concat(blocks);
  const std::string file = dir.file("grads.h5");
  write_file(file, spec, blocks);

  const std::string expected = dir.file("expected.bin");
  write_expected(expected, all, dim);
  const auto ok = run_command(kPython + " " + kScript + " " + file + " " + expected);
  EXPECT_EQ(ok.status, 0) << ok.output;

  // The check must be able to fail: one appended value off by a few fp16 ulps.
  Block wrong = all;
  wrong.rows[5 * dim + 1] = wrong.rows[5 * dim + 1] * 1.01f + 0.5f;
  write_expected(expected, wrong, dim);
  const auto bad = run_command(kPython + " " + kScript + " " + file + " " + expected);
  EXPECT_EQ(bad.status, 1) << bad.output;
  EXPECT_NE(bad.output.find("features[5, 1]"), std::string::npos) << bad.output;
}

TEST_P(StoreH5py, ZeroRowFile) {
  TempDir dir;
  FeatureFileSpec spec;
  spec.dim = 3;
  spec.dtype = GetParam();
  spec.kind = "embeddings";
  const std::string file = dir.file("empty.h5");
  write_file(file, spec, {});
  write_expected(dir.file("expected.bin"), Block{}, 3);
  const auto r = run_command(kPython + " " + kScript + " " + file + " " + dir.file("expected.bin"));
  EXPECT_EQ(r.status, 0) << r.output;
}

INSTANTIATE_TEST_SUITE_P(Dtypes, StoreH5py, ::testing::Values(ElementType::f32, ElementType::f16),
                         [](const auto& info) { return std::string(ntks::store::to_string(info.param)); });

}  // namespace
