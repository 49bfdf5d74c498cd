// safetensors reading and writing: round trips, sharded checkpoints, and what
// the reader does with files it must not trust (every corruption is an
// InputError naming the file, never a crash).

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numeric>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "ntks/model/safetensors.h"
#include "ntks/util/error.h"
#include "ntks/util/files.h"
#include "test_util.h"

namespace fs = std::filesystem;
using ntks::InputError;
using ntks::model::SafetensorsFile;
using ntks::model::StDType;
using ntks::model::TensorBytes;
using ntks::model::TensorView;
using ntks::model::WeightStore;
using ntks::testing::error_of;
using ntks::testing::TempDir;
using ntks::testing::expect_contains;

namespace {

template <class T>
std::string bytes_of(const std::vector<T>& values) {
  std::string out(values.size() * sizeof(T), '\0');
  if (!values.empty()) std::memcpy(out.data(), values.data(), out.size());
  return out;
}

std::int64_t elements(const std::vector<std::int64_t>& shape) {
  return std::accumulate(shape.begin(), shape.end(), std::int64_t{1}, std::multiplies<>());
}

// Deterministic bytes for a tensor of `dtype` x `shape`.
TensorBytes make_tensor(const std::string& name, StDType dtype, std::vector<std::int64_t> shape,
                        unsigned seed = 1) {
  const auto n = static_cast<std::size_t>(elements(shape));
  std::string bytes(n * ntks::model::st_dtype_size(dtype), '\0');
  std::mt19937 rng(seed);
  for (auto& b : bytes) b = static_cast<char>(rng() & 0xFF);
  return TensorBytes{name, dtype, std::move(shape), std::move(bytes)};
}

std::string view_bytes(const TensorView& v) {
  return std::string(static_cast<const char*>(v.data), v.nbytes);
}

void write_raw(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// A safetensors file from a literal header text and data bytes.
std::string raw_safetensors(const std::string& header, const std::string& data,
                            std::uint64_t header_len) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(header_len >> (8 * i));
  return out + header + data;
}
std::string raw_safetensors(const std::string& header, const std::string& data = "") {
  return raw_safetensors(header, data, header.size());
}

std::string safetensors_open_error(const std::string& path) {
  return error_of<InputError>([&] { SafetensorsFile::open(path); });
}

// Checks what a successfully opened file promises: sizes agree with dtype x
// shape and every byte of every view can be read.
void check_views(const SafetensorsFile& file, std::size_t file_size) {
  std::size_t total = 0;
  const char* lowest = nullptr;
  const char* highest = nullptr;
  for (const auto& name : file.names()) {
    const TensorView& v = file.get(name);
    const char* begin = static_cast<const char*>(v.data);
    if (lowest == nullptr || begin < lowest) lowest = begin;
    if (highest == nullptr || begin + v.nbytes > highest) highest = begin + v.nbytes;
    for (const auto d : v.shape) ASSERT_GE(d, 0);
    std::size_t expected = ntks::model::st_dtype_size(v.dtype);
    for (const auto d : v.shape) expected *= static_cast<std::size_t>(d);
    ASSERT_EQ(v.nbytes, expected) << name;
    ASSERT_LE(v.nbytes, file_size);
    total += v.nbytes;
    unsigned sum = 0;
    const auto* p = static_cast<const unsigned char*>(v.data);
    for (std::size_t i = 0; i < v.nbytes; ++i) sum += p[i];
    (void)sum;
  }
  ASSERT_LE(total, file_size);
  // all views lie within one span no longer than the file
  if (lowest != nullptr) {
    ASSERT_LE(static_cast<std::size_t>(highest - lowest), file_size);
  }
}

std::vector<TensorBytes> sample_tensors() {
  return {
      make_tensor("embed.weight", StDType::BF16, {16, 8}, 1),
      make_tensor("layers.0.q.weight", StDType::F32, {8, 8}, 2),
      make_tensor("layers.0.norm.weight", StDType::F16, {8}, 3),
      make_tensor("layers.0.ids", StDType::I64, {5}, 4),
      make_tensor("layers.1.q.weight", StDType::F32, {8, 8}, 5),
      make_tensor("layers.1.empty", StDType::F32, {0, 5}, 6),
      make_tensor("layers.1.scale", StDType::F32, {}, 7),
      make_tensor("layers.2.q.weight", StDType::BF16, {8, 12}, 8),
      make_tensor("layers.2.k.weight", StDType::BF16, {4, 12}, 9),
      make_tensor("lm_head.weight", StDType::F32, {16, 8}, 10),
  };
}

}  // namespace

// ---------------------------------------------------------------- round trip

TEST(SafetensorsRoundTrip, DTypesShapesAndMetadata) {
  TempDir dir;
  const std::vector<TensorBytes> tensors = {
      {"f32", StDType::F32, {2, 3}, bytes_of<float>({1.5f, -2, 3, 0, 1e30f, -0.0f})},
      {"f16", StDType::F16, {4}, bytes_of<std::uint16_t>({0x3C00, 0xC000, 0x7BFF, 0x0001})},
      {"bf16", StDType::BF16, {2, 2}, bytes_of<std::uint16_t>({0x3F80, 0xBF80, 0x7F80, 0x0000})},
      {"i64", StDType::I64, {3}, bytes_of<std::int64_t>({-1, INT64_MAX, 42})},
      {"empty", StDType::F32, {0, 7}, ""},
      {"empty_i64", StDType::I64, {3, 0}, ""},
      {"scalar", StDType::F32, {}, bytes_of<float>({3.25f})},
      {"scalar_i64", StDType::I64, {}, bytes_of<std::int64_t>({-7})},
      {"b", StDType::BOOL, {3}, std::string("\x01\x00\x01", 3)},
  };
  const std::string path = dir.file("model.safetensors");
  ntks::model::write_safetensors(path, tensors, {{"format", "pt"}, {"note", "ü ok"}});

  auto file = SafetensorsFile::open(path);
  EXPECT_EQ(file->path(), path);
  EXPECT_EQ(file->names().size(), tensors.size());
  for (const auto& t : tensors) {
    SCOPED_TRACE(t.name);
    ASSERT_TRUE(file->has(t.name));
    const TensorView& v = file->get(t.name);
    EXPECT_EQ(v.name, t.name);
    EXPECT_EQ(v.dtype, t.dtype);
    EXPECT_EQ(v.shape, t.shape);
    EXPECT_EQ(v.nbytes, t.bytes.size());
    EXPECT_EQ(view_bytes(v), t.bytes);
  }
  EXPECT_EQ(file->metadata(), (std::map<std::string, std::string>{{"format", "pt"}, {"note", "ü ok"}}));
  EXPECT_FALSE(file->has("missing"));
  const std::string err = error_of<InputError>([&] { file->get("missing"); });
  expect_contains(err, path);
  expect_contains(err, "'missing'");
  EXPECT_FALSE(fs::exists(path + ".partial"));
}

TEST(SafetensorsRoundTrip, LayoutIsAlignedAndInGivenOrder) {
  TempDir dir;
  const std::vector<TensorBytes> tensors = {make_tensor("z_first", StDType::F16, {3}),
                                            make_tensor("a_second", StDType::F32, {2})};
  const std::string path = dir.file("x.safetensors");
  ntks::model::write_safetensors(path, tensors);
  const std::string raw = ntks::read_file(path);
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(raw[i]);
  EXPECT_EQ(n % 8, 0u);
  EXPECT_EQ(raw.size(), 8 + n + 6 + 8);
  const std::string header = raw.substr(8, n);
  // padded with spaces, no metadata when none is given
  EXPECT_EQ(header.find('\0'), std::string::npos);
  const auto j = nlohmann::json::parse(header);
  EXPECT_FALSE(j.contains("__metadata__"));
  EXPECT_EQ(j["z_first"]["data_offsets"], nlohmann::json({0, 6}));
  EXPECT_EQ(j["a_second"]["data_offsets"], nlohmann::json({6, 14}));
  EXPECT_EQ(j["z_first"]["dtype"], "F16");
  EXPECT_EQ(raw.substr(8 + n), tensors[0].bytes + tensors[1].bytes);
}

TEST(SafetensorsRoundTrip, EmptyFileAndOverwrite) {
  TempDir dir;
  const std::string path = dir.file("e.safetensors");
  ntks::model::write_safetensors(path, {});
  EXPECT_TRUE(SafetensorsFile::open(path)->names().empty());
  ntks::model::write_safetensors(path, {make_tensor("t", StDType::I32, {2})});
  EXPECT_EQ(SafetensorsFile::open(path)->names(), std::vector<std::string>{"t"});
}

TEST(SafetensorsRoundTrip, WriterRejectsWrongByteCount) {
  TempDir dir;
  TensorBytes bad = make_tensor("t", StDType::F32, {2, 2});
  bad.bytes.pop_back();
  error_of<ntks::InternalError>(
      [&] { ntks::model::write_safetensors(dir.file("bad.safetensors"), {bad}); });
  EXPECT_FALSE(fs::exists(dir.file("bad.safetensors")));
}

TEST(SafetensorsRoundTrip, DTypeNames) {
  for (const auto t : {StDType::F32, StDType::F16, StDType::BF16, StDType::F64, StDType::I64,
                       StDType::I32, StDType::I16, StDType::I8, StDType::U8, StDType::BOOL}) {
    EXPECT_EQ(ntks::model::parse_st_dtype(ntks::model::st_dtype_name(t), "x"), t);
  }
  EXPECT_EQ(ntks::model::st_dtype_size(StDType::BF16), 2u);
  EXPECT_EQ(ntks::model::st_dtype_size(StDType::I64), 8u);
  const std::string err = error_of<InputError>([] { ntks::model::parse_st_dtype("F8_E4M3", "ctx"); });
  expect_contains(err, "ctx: dtype 'F8_E4M3' is not supported");
  expect_contains(err, "BF16");
}

// ---------------------------------------------------------------- weight store

TEST(WeightStore, SingleFileFolderAndFilePath) {
  TempDir dir;
  const auto tensors = sample_tensors();
  ntks::model::write_checkpoint(dir.path().string(), tensors, 1, {{"format", "pt"}});
  EXPECT_TRUE(fs::exists(dir.file("model.safetensors")));
  EXPECT_FALSE(fs::exists(dir.file("model.safetensors.index.json")));
  const WeightStore store = WeightStore::open(dir.path().string());
  EXPECT_EQ(store.names().size(), tensors.size());
  for (const auto& t : tensors) EXPECT_EQ(view_bytes(store.get(t.name)), t.bytes) << t.name;
  EXPECT_NE(store.keep_alive(), nullptr);

  // An adapter folder: the file is given directly.
  TempDir adapter;
  const std::string file = adapter.file("adapter_model.safetensors");
  ntks::model::write_safetensors(file, {make_tensor("lora_A", StDType::F32, {2, 4})});
  const WeightStore direct = WeightStore::open(file);
  EXPECT_TRUE(direct.has("lora_A"));
  EXPECT_FALSE(direct.has("lora_B"));
  const std::string err = error_of<InputError>([&] { direct.get("lora_B"); });
  EXPECT_EQ(err, file + ": tensor 'lora_B' is missing");

  // ... but the folder alone is not a model checkpoint.
  const std::string folder_err = error_of<InputError>([&] { WeightStore::open(adapter.path().string()); });
  expect_contains(folder_err, adapter.path().string());
  expect_contains(folder_err, "model.safetensors.index.json");
  expect_contains(folder_err, "adapter_model.safetensors");
}

TEST(WeightStore, MissingPath) {
  TempDir dir;
  const std::string err = error_of<InputError>([&] { WeightStore::open(dir.file("nope")); });
  expect_contains(err, dir.file("nope"));
  expect_contains(err, "no such file");
}

TEST(WeightStore, ThreeShardsThroughIndex) {
  TempDir dir;
  const auto tensors = sample_tensors();
  ntks::model::write_checkpoint(dir.path().string(), tensors, 3, {{"format", "pt"}});

  const std::vector<std::string> names = {"model-00001-of-00003.safetensors",
                                          "model-00002-of-00003.safetensors",
                                          "model-00003-of-00003.safetensors"};
  std::uint64_t total = 0;
  for (const auto& t : tensors) total += t.bytes.size();
  const auto index = nlohmann::json::parse(ntks::read_file(dir.file("model.safetensors.index.json")));
  EXPECT_EQ(index["metadata"]["total_size"], total);
  ASSERT_EQ(index["weight_map"].size(), tensors.size());

  // contiguous groups in the given order, none empty, roughly equal in bytes
  std::size_t shard = 0;
  std::vector<std::uint64_t> bytes(3, 0);
  for (const auto& t : tensors) {
    const std::string s = index["weight_map"][t.name];
    while (shard < 3 && s != names[shard]) ++shard;
    ASSERT_LT(shard, 3u) << t.name << " in " << s << " breaks the order";
    bytes[shard] += t.bytes.size();
  }
  std::size_t largest = 0;
  for (const auto& t : tensors) largest = std::max(largest, t.bytes.size());
  for (int k = 0; k < 3; ++k) {
    EXPECT_GT(bytes[k], 0u) << names[k];
    EXPECT_LE(bytes[k], total / 3 + largest) << names[k];
    auto shard_file = SafetensorsFile::open(dir.file(names[k]));
    EXPECT_EQ(shard_file->metadata().at("format"), "pt");
  }

  for (const std::string& root : {dir.path().string(), dir.file("model.safetensors.index.json")}) {
    SCOPED_TRACE(root);
    const WeightStore store = WeightStore::open(root);
    EXPECT_EQ(store.names().size(), tensors.size());
    for (const auto& t : tensors) {
      const TensorView& v = store.get(t.name);
      EXPECT_EQ(v.dtype, t.dtype);
      EXPECT_EQ(v.shape, t.shape);
      EXPECT_EQ(view_bytes(v), t.bytes) << t.name;
    }
  }
  // the views outlive the store through keep_alive()
  std::shared_ptr<const void> keep;
  const TensorView* view = nullptr;
  {
    const WeightStore store = WeightStore::open(dir.path().string());
    keep = store.keep_alive();
    view = &store.get("lm_head.weight");
  }
  EXPECT_EQ(view_bytes(*view), tensors.back().bytes);
}

TEST(WeightStore, RewriteRemovesTheOtherLayout) {
  TempDir dir;
  const auto tensors = sample_tensors();
  ntks::model::write_checkpoint(dir.path().string(), tensors, 1);
  ntks::model::write_checkpoint(dir.path().string(), tensors, 3);
  EXPECT_FALSE(fs::exists(dir.file("model.safetensors")));
  EXPECT_EQ(WeightStore::open(dir.path().string()).names().size(), tensors.size());
  ntks::model::write_checkpoint(dir.path().string(), {tensors[0]}, 1);
  EXPECT_FALSE(fs::exists(dir.file("model.safetensors.index.json")));
  EXPECT_EQ(WeightStore::open(dir.path().string()).names().size(), 1u);
}

TEST(WeightStore, ShardsOfZeroBytesAndManyShards) {
  TempDir dir;
  std::vector<TensorBytes> tensors;
  for (int i = 0; i < 4; ++i) tensors.push_back(make_tensor(fmt::format("e{}", i), StDType::F32, {0}));
  ntks::model::write_checkpoint(dir.path().string(), tensors, 4);
  EXPECT_EQ(WeightStore::open(dir.path().string()).names().size(), 4u);

  TempDir dir2;
  const auto sample = sample_tensors();
  ntks::model::write_checkpoint(dir2.path().string(), sample, static_cast<int>(sample.size()));
  EXPECT_EQ(WeightStore::open(dir2.path().string()).names().size(), sample.size());
}

class WeightStoreIndexErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    ntks::model::write_checkpoint(dir_.path().string(), sample_tensors(), 3);
    index_ = nlohmann::json::parse(ntks::read_file(index_path_));
  }
  std::string safetensors_open_error() {
    return error_of<InputError>([&] { WeightStore::open(dir_.path().string()); });
  }
  void write_index(const nlohmann::json& j) { write_raw(index_path_, j.dump()); }
  TempDir dir_;
  std::string index_path_ = dir_.file("model.safetensors.index.json");
  nlohmann::json index_;
};

TEST_F(WeightStoreIndexErrors, MissingShard) {
  const std::string shard = "model-00002-of-00003.safetensors";
  std::string first_tensor;
  for (const auto& [t, s] : index_["weight_map"].items()) {
    if (s == shard && first_tensor.empty()) first_tensor = t;
  }
  fs::remove(dir_.file(shard));
  const std::string err = safetensors_open_error();
  expect_contains(err, index_path_);
  expect_contains(err, "'" + first_tensor + "'");
  expect_contains(err, shard);
  expect_contains(err, "does not exist");
}

TEST_F(WeightStoreIndexErrors, TensorMissingInShard) {
  index_["weight_map"]["model.ghost.weight"] = "model-00001-of-00003.safetensors";
  write_index(index_);
  const std::string err = safetensors_open_error();
  EXPECT_EQ(err, index_path_ + ": tensor 'model.ghost.weight' is assigned to shard "
                               "'model-00001-of-00003.safetensors', which does not contain it");
}

TEST_F(WeightStoreIndexErrors, TensorAssignedToTheWrongShard) {
  index_["weight_map"]["embed.weight"] = "model-00003-of-00003.safetensors";
  write_index(index_);
  const std::string err = safetensors_open_error();
  expect_contains(err, "'embed.weight'");
  expect_contains(err, "model-00003-of-00003.safetensors");
}

TEST_F(WeightStoreIndexErrors, TensorListedTwice) {
  const std::string text =
      R"({"metadata": {}, "weight_map": {"embed.weight": "model-00001-of-00003.safetensors",
          "embed.weight": "model-00002-of-00003.safetensors"}})";
  write_raw(index_path_, text);
  const std::string err = safetensors_open_error();
  expect_contains(err, index_path_);
  expect_contains(err, "'embed.weight' twice");
}

TEST_F(WeightStoreIndexErrors, TensorStoredInTwoShards) {
  ntks::model::write_safetensors(dir_.file("model-00002-of-00003.safetensors"),
                                 {make_tensor("embed.weight", StDType::BF16, {16, 8}),
                                  make_tensor("extra", StDType::F32, {1})});
  index_["weight_map"] = {{"embed.weight", "model-00001-of-00003.safetensors"},
                          {"extra", "model-00002-of-00003.safetensors"}};
  write_index(index_);
  const std::string err = safetensors_open_error();
  expect_contains(err, "'embed.weight' is stored in two shards");
}

TEST_F(WeightStoreIndexErrors, MalformedIndex) {
  write_raw(index_path_, "{\"weight_map\": ");
  expect_contains(safetensors_open_error(), index_path_ + ": index is not valid JSON");
  write_raw(index_path_, "[1, 2]");
  expect_contains(safetensors_open_error(), "expected an object");
  write_index({{"metadata", {}}});
  expect_contains(safetensors_open_error(), "'weight_map' is missing");
  write_index({{"weight_map", nlohmann::json::object()}});
  expect_contains(safetensors_open_error(), "lists no tensors");
  write_index({{"weight_map", {{"a", 3}}}});
  expect_contains(safetensors_open_error(), "tensor 'a' is assigned to 3");
  write_index({{"weight_map", {{"a", "../model-00001-of-00003.safetensors"}}}});
  expect_contains(safetensors_open_error(), "not a file name inside the checkpoint folder");
  write_index({{"weight_map", {{"a", "/etc/passwd"}}}});
  expect_contains(safetensors_open_error(), "not a file name inside the checkpoint folder");
}

TEST_F(WeightStoreIndexErrors, CorruptShardIsNamed) {
  const std::string shard = dir_.file("model-00003-of-00003.safetensors");
  const std::string raw = ntks::read_file(shard);
  write_raw(shard, raw.substr(0, raw.size() - 3));
  const std::string err = safetensors_open_error();
  expect_contains(err, shard);
  expect_contains(err, "reach past");
}

// ---------------------------------------------------------------- corrupt files

class SafetensorsCorrupt : public ::testing::Test {
 protected:
  std::string write(const std::string& bytes) {
    write_raw(path_, bytes);
    return path_;
  }
  TempDir dir_;
  std::string path_ = dir_.file("model.safetensors");
};

TEST_F(SafetensorsCorrupt, MissingOrNotAFile) {
  expect_contains(safetensors_open_error(dir_.file("none.safetensors")), dir_.file("none.safetensors") + ": cannot open");
  fs::create_directory(dir_.file("d.safetensors"));
  expect_contains(safetensors_open_error(dir_.file("d.safetensors")), "not a regular file");
}

TEST_F(SafetensorsCorrupt, TooShort) {
  for (int n : {0, 1, 7}) {
    const std::string err = safetensors_open_error(write(std::string(static_cast<std::size_t>(n), '\0')));
    EXPECT_EQ(err, fmt::format("{}: {} bytes, too short for a safetensors file (the header length "
                               "alone takes 8)", path_, n));
  }
}

TEST_F(SafetensorsCorrupt, HeaderLengthBeyondFile) {
  const std::string header = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  std::string err = safetensors_open_error(write(raw_safetensors(header, "abcd", header.size() + 5)));
  expect_contains(err, path_ + ": header length " + std::to_string(header.size() + 5));
  expect_contains(err, "reaches past the end");
  err = safetensors_open_error(write(raw_safetensors(header, "abcd", ~std::uint64_t{0})));
  expect_contains(err, "header length 18446744073709551615");
}

TEST_F(SafetensorsCorrupt, HeaderLengthOverLimit) {
  // A sparse file larger than the limit: only the length check can reject it.
  {
    std::ofstream out(path_, std::ios::binary);
    const std::string len = raw_safetensors("", "", 100'000'001);
    out << len;
  }
  fs::resize_file(path_, 100'000'100);
  const std::string err = safetensors_open_error(path_);
  expect_contains(err, "header length 100000001 exceeds the 100000000-byte limit");
}

TEST_F(SafetensorsCorrupt, HeaderNotJson) {
  expect_contains(safetensors_open_error(write(raw_safetensors("{\"a\": [1, 2"))), path_ + ": header is not valid JSON");
  expect_contains(safetensors_open_error(write(raw_safetensors(""))), "header is not valid JSON");
  expect_contains(safetensors_open_error(write(raw_safetensors("\xff\xfe{}"))), "header is not valid JSON");
  expect_contains(safetensors_open_error(write(raw_safetensors("[1, 2]"))), "header is a JSON array, expected an object");
  expect_contains(safetensors_open_error(write(raw_safetensors(std::string(64, '[') + std::string(64, ']')))),
                  "nests deeper");
  expect_contains(safetensors_open_error(write(raw_safetensors(R"({"a": {"shape": [[[[1]]]]}})"))), "nests deeper");
}

TEST_F(SafetensorsCorrupt, UnknownDType) {
  const std::string err = safetensors_open_error(
      write(raw_safetensors(R"({"w":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}})", "xy")));
  expect_contains(err, path_ + ": tensor 'w': dtype 'F8_E4M3' is not supported");
  expect_contains(
      safetensors_open_error(write(raw_safetensors(R"({"w":{"dtype":7,"shape":[2],"data_offsets":[0,2]}})", "xy"))),
      "tensor 'w': 'dtype' is missing or not a string");
}

TEST_F(SafetensorsCorrupt, OffsetsOutOfRange) {
  std::string err = safetensors_open_error(
      write(raw_safetensors(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", "1234")));
  EXPECT_EQ(err, path_ + ": tensor 'w': data_offsets [0, 8] reach past the 4 data bytes of the "
                         "file (truncated?)");
  err = safetensors_open_error(
      write(raw_safetensors(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})", "12345678")));
  expect_contains(err, "data_offsets [8, 4] end before they begin");
  err = safetensors_open_error(write(raw_safetensors(
      R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[18446744073709551612,18446744073709551615]}})",
      "1234")));
  expect_contains(err, "reach past");
  for (const char* offsets : {"[0]", "[0,4,8]", "[-4,0]", "[0,4.5]", "\"0,4\"", "null"}) {
    err = safetensors_open_error(write(raw_safetensors(
        fmt::format(R"({{"w":{{"dtype":"F32","shape":[1],"data_offsets":{}}}}})", offsets), "1234")));
    expect_contains(err, "tensor 'w': 'data_offsets' is");
  }
  err = safetensors_open_error(write(raw_safetensors(R"({"w":{"dtype":"F32","shape":[1]}})", "1234")));
  expect_contains(err, "'data_offsets' is missing");
}

TEST_F(SafetensorsCorrupt, ByteLengthMismatch) {
  const std::string header =
      R"({"model.layers.0.self_attn.q_proj.weight":{"dtype":"BF16","shape":[8,8],"data_offsets":[0,100]}})";
  const std::string err = safetensors_open_error(write(raw_safetensors(header, std::string(128, 'x'))));
  EXPECT_EQ(err, path_ + ": tensor 'model.layers.0.self_attn.q_proj.weight': data_offsets [0, 100] "
                         "hold 100 bytes but BF16 [8, 8] needs 128");
  // a scalar needs one element, a zero-size tensor none
  expect_contains(
      safetensors_open_error(write(raw_safetensors(R"({"s":{"dtype":"I64","shape":[],"data_offsets":[0,0]}})"))),
      "hold 0 bytes but I64 [] needs 8");
  expect_contains(
      safetensors_open_error(write(raw_safetensors(R"({"z":{"dtype":"F32","shape":[0,3],"data_offsets":[0,4]}})", "1234"))),
      "hold 4 bytes but F32 [0, 3] needs 0");
}

TEST_F(SafetensorsCorrupt, ShapeOverflowAndHugeZeroSize) {
  const std::string err = safetensors_open_error(write(raw_safetensors(
      R"({"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}})")));
  expect_contains(err, "tensor 'w': F32 [4611686018427387904, 4] is too large to address");
  // a zero dimension makes any other dimension harmless
  auto file = SafetensorsFile::open(write(raw_safetensors(
      R"({"w":{"dtype":"F32","shape":[0,9223372036854775807],"data_offsets":[0,0]}})")));
  EXPECT_EQ(file->get("w").nbytes, 0u);
  expect_contains(safetensors_open_error(write(raw_safetensors(
                      R"({"w":{"dtype":"F32","shape":[9223372036854775808],"data_offsets":[0,0]}})"))),
                  "expected non-negative integers");
}

TEST_F(SafetensorsCorrupt, NegativeOrMalformedShape) {
  std::string err = safetensors_open_error(
      write(raw_safetensors(R"({"w":{"dtype":"F32","shape":[-1,4],"data_offsets":[0,0]}})")));
  EXPECT_EQ(err, path_ + ": tensor 'w': shape [-1,4] has -1, expected non-negative integers");
  for (const char* shape : {"[2.5]", "[\"2\"]", "[null]", "[[2]]"}) {
    err = safetensors_open_error(write(raw_safetensors(
        fmt::format(R"({{"w":{{"dtype":"F32","shape":{},"data_offsets":[0,8]}}}})", shape), "12345678")));
    expect_contains(err, "tensor 'w': shape");
  }
  err = safetensors_open_error(write(raw_safetensors(R"({"w":{"dtype":"F32","shape":3,"data_offsets":[0,4]}})", "1234")));
  expect_contains(err, "'shape' is missing or not an array");
  err = safetensors_open_error(write(raw_safetensors(R"({"w":[1,2]})")));
  expect_contains(err, "tensor 'w': header entry is array");
}

TEST_F(SafetensorsCorrupt, OverlappingTensors) {
  const std::string err = safetensors_open_error(write(raw_safetensors(
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
      std::string(12, 'x'))));
  EXPECT_EQ(err, path_ + ": tensors 'a' [0, 8] and 'b' [4, 12] overlap");
  // identical ranges overlap too; empty tensors sit anywhere
  expect_contains(safetensors_open_error(write(raw_safetensors(
                      R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                      R"("b":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}})",
                      "1234"))),
                  "overlap");
  auto ok = SafetensorsFile::open(write(raw_safetensors(
      R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
      R"("e":{"dtype":"F32","shape":[0],"data_offsets":[2,2]}})",
      "1234")));
  EXPECT_EQ(ok->names().size(), 2u);
}

TEST_F(SafetensorsCorrupt, DuplicateTensor) {
  const std::string err = safetensors_open_error(write(raw_safetensors(
      R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
      R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
      "12345678")));
  expect_contains(err, path_ + ": header has the key 'a' twice");
}

TEST_F(SafetensorsCorrupt, BadMetadata) {
  std::string err = safetensors_open_error(write(raw_safetensors(R"({"__metadata__":{"format":1}})")));
  EXPECT_EQ(err, path_ + ": '__metadata__' value of 'format' is 1, expected a string");
  err = safetensors_open_error(write(raw_safetensors(R"({"__metadata__":["pt"]})")));
  expect_contains(err, "'__metadata__' is array, expected a map of strings");
  auto ok = SafetensorsFile::open(write(raw_safetensors(R"({"__metadata__":{"format":"pt"}}   )")));
  EXPECT_EQ(ok->metadata().at("format"), "pt");
}

// A small valid file: four tensors (one scalar, one empty) and metadata.
std::string small_file(const TempDir& dir) {
  const std::string path = dir.file("good.safetensors");
  ntks::model::write_safetensors(path,
                                 {make_tensor("a", StDType::F32, {2, 2}), make_tensor("b", StDType::BF16, {3}),
                                  make_tensor("c", StDType::I64, {}), make_tensor("d", StDType::F16, {0})},
                                 {{"k", "v"}});
  return ntks::read_file(path);
}

// Truncating a valid file anywhere gives an InputError naming it.
TEST_F(SafetensorsCorrupt, TruncatedAtEveryLength) {
  const std::string raw = small_file(dir_);
  write(raw);
  for (std::size_t n = raw.size(); n-- > 0;) {
    fs::resize_file(path_, n);
    const std::string err = safetensors_open_error(path_);
    ASSERT_NE(err.find(path_), std::string::npos) << "length " << n << ": " << err;
  }
  EXPECT_NO_THROW(SafetensorsFile::open(write(raw)));
}

// Damaging any byte of a valid file: open() either succeeds with views that
// agree with their dtype and shape, or throws InputError naming the file.
// The damage is written in place and undone, which keeps 7000 cases fast.
TEST_F(SafetensorsCorrupt, MutatedBytesNeverCrash) {
  const std::string raw = small_file(dir_);
  write(raw);
  const int fd = ::open(path_.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  std::size_t opened = 0;
  std::size_t rejected = 0;
  auto attempt = [&](const std::vector<std::pair<std::size_t, unsigned char>>& changes,
                     const std::string& what) {
    for (const auto& [pos, v] : changes) ASSERT_EQ(::pwrite(fd, &v, 1, static_cast<off_t>(pos)), 1);
    try {
      auto file = SafetensorsFile::open(path_);
      check_views(*file, raw.size());
      ++opened;
    } catch (const InputError& e) {
      ASSERT_NE(std::string(e.what()).find(path_), std::string::npos) << what << ": " << e.what();
      ++rejected;
    } catch (const std::exception& e) {
      FAIL() << what << ": unexpected " << e.what();
    }
    for (const auto& [pos, v] : changes) ASSERT_EQ(::pwrite(fd, &raw[pos], 1, static_cast<off_t>(pos)), 1);
  };
  const std::vector<unsigned char> values = {0x00, 0xFF, '"', '0', '9', '[', ']', '{', '}', '-', ',', ' ', 'e', 0x80};
  for (std::size_t pos = 0; pos < raw.size() && !HasFatalFailure(); ++pos) {
    for (const unsigned char v : values) {
      if (static_cast<unsigned char>(raw[pos]) != v) {
        attempt({{pos, v}}, fmt::format("byte {} = {:#x}", pos, v));
      }
    }
  }
  std::mt19937 rng(12345);
  for (int round = 0; round < 3000 && !HasFatalFailure(); ++round) {
    std::vector<std::pair<std::size_t, unsigned char>> changes;
    const int n = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < n; ++i) {
      changes.emplace_back(rng() % raw.size(), static_cast<unsigned char>(rng() & 0xFF));
    }
    attempt(changes, fmt::format("random round {}", round));
  }
  ::close(fd);
  // Both outcomes occur: data bytes can change freely, header bytes mostly not.
  EXPECT_GT(opened, 0u);
  EXPECT_GT(rejected, 0u);
}
