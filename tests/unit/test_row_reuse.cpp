// RowReuse (features/row_reuse.h) and the store's reused-row count: rows are
// found by content key only in files made the same way, runs of rows are
// copied exactly, and the count survives a resume.

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ntks/features/row_reuse.h"
#include "ntks/store/feature_file.h"
#include "test_util.h"

namespace {

using namespace ntks;
using ntks::testing::TempDir;

store::FeatureFileSpec spec_with(const std::string& metadata, int64_t dim = 3) {
  store::FeatureFileSpec spec;
  spec.dim = dim;
  spec.kind = "embeddings";
  spec.metadata_json = metadata;
  return spec;
}

// A complete file whose row i is (key_base + i) * [1, 2, 3] with key key_base + i.
std::string write_bytes(const TempDir& dir, const std::string& name, const store::FeatureFileSpec& spec,
                       uint64_t key_base, int64_t rows) {
  const std::string path = dir.file(name);
  auto w = store::FeatureWriter::create(path, spec);
  std::vector<float> data;
  std::vector<uint64_t> keys;
  std::vector<std::string> ids;
  std::vector<int64_t> indices, tokens;
  for (int64_t i = 0; i < rows; ++i) {
    keys.push_back(key_base + static_cast<uint64_t>(i));
    for (int64_t c = 0; c < spec.dim; ++c) data.push_back(static_cast<float>(keys.back()) * static_cast<float>(c + 1));
    ids.push_back("r" + std::to_string(keys.back()));
    indices.push_back(i);
    tokens.push_back(5);
  }
  w.append(data.data(), rows, keys.data(), ids, indices.data(), tokens.data());
  w.finalize();
  return path;
}

const char* kMeta = R"({"adapter": "aa", "corpus": ["/old.jsonl"], "stage": {"name": "grads", "dim": 3, "preselected": "x"}})";

TEST(RowReuse, IdentityLeavesOutTheCorpusAndTheRecordList) {
  EXPECT_EQ(features::row_identity(kMeta),
            features::row_identity(R"({"adapter": "aa", "corpus": ["/new.jsonl", "/more.jsonl"],
                                       "stage": {"name": "grads", "dim": 3, "preselected": "y"}})"));
  EXPECT_NE(features::row_identity(kMeta),
            features::row_identity(R"({"adapter": "bb", "corpus": ["/old.jsonl"], "stage": {"name": "grads", "dim": 3}})"));
  EXPECT_NE(features::row_identity(kMeta),
            features::row_identity(R"({"adapter": "aa", "corpus": ["/old.jsonl"], "stage": {"name": "grads", "dim": 4}})"));
}

TEST(RowReuse, FindsRowsByKeyOnlyInFilesMadeTheSameWay) {
  TempDir dir;
  const std::string same = write_bytes(dir, "same.h5", spec_with(kMeta), 100, 10);
  const std::string other = write_bytes(
      dir, "other.h5", spec_with(R"({"adapter": "bb", "corpus": [], "stage": {"name": "grads", "dim": 3}})"), 200, 4);
  const std::string wider = write_bytes(dir, "wider.h5", spec_with(kMeta, 4), 300, 4);
  const std::string junk = dir.write("junk.h5", "not hdf5");
  const auto want = spec_with(R"({"adapter": "aa", "corpus": ["/grown.jsonl"], "stage": {"name": "grads", "dim": 3}})");
  const auto reuse = features::RowReuse::open({same, other, wider, junk}, want);
  EXPECT_EQ(reuse.rows(), 10);

  // keys 103..105 are a run of rows; 200 (other file) and 7 are missing.
  const std::vector<uint64_t> keys = {104, 200, 103, 7, 105, 109};
  std::vector<float> out(keys.size() * 3, -1.0f);
  const std::vector<bool> found = reuse.find(keys, out.data());
  EXPECT_EQ(found, (std::vector<bool>{true, false, true, false, true, true}));
  for (size_t i = 0; i < keys.size(); ++i)
    for (int c = 0; c < 3; ++c)
      EXPECT_EQ(out[i * 3 + c], found[i] ? static_cast<float>(keys[i]) * static_cast<float>(c + 1) : -1.0f) << i;
  EXPECT_TRUE(features::RowReuse().empty());
}

TEST(RowReuse, TheReusedCountIsKeptAcrossAResume) {
  TempDir dir;
  const std::string path = dir.file("f.h5");
  const auto spec = spec_with(kMeta);
  const std::vector<float> rows(6, 1.0f);
  const std::vector<uint64_t> keys = {1, 2};
  const std::vector<int64_t> idx = {0, 1}, tok = {3, 3};
  {
    auto w = store::FeatureWriter::create(path, spec);
    w.append(rows.data(), 2, keys.data(), {"a", "b"}, idx.data(), tok.data(), 1);
    EXPECT_EQ(w.reused_rows(), 1);
  }  // left partial, as a killed run leaves it
  auto w = store::FeatureWriter::resume(path);
  EXPECT_EQ(w.rows(), 2);
  EXPECT_EQ(w.reused_rows(), 1);
  const std::vector<int64_t> idx2 = {2, 3};
  w.append(rows.data(), 2, keys.data(), {"c", "d"}, idx2.data(), tok.data(), 2);
  w.finalize();
  const store::FeatureReader r(path);
  EXPECT_EQ(r.rows(), 4);
  EXPECT_EQ(r.reused_rows(), 3);
  // Files without the attribute (every file written before it) count 0.
  const store::FeatureReader plain(write_bytes(dir, "plain.h5", spec, 1, 2));
  EXPECT_EQ(plain.reused_rows(), 0);
}

}  // namespace
