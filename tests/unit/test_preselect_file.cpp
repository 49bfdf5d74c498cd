// RUN/preselect/preselected.h5: round trip, what the reader rejects, and an
// independent read with h5py (Debian's /usr/bin/python3).

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <limits>

#include <nlohmann/json.hpp>

#include "ntks/select/preselected.h"
#include "ntks/store/array_file.h"
#include "ntks/util/error.h"
#include "test_util.h"

using ntks::InputError;
using ntks::select::Preselected;
using ntks::select::read_preselected;
using ntks::select::write_preselected;
using namespace ntks::testing;
namespace fs = std::filesystem;

namespace {

Preselected sample() {
  Preselected p;
  p.records = {41, 7, 1000000000007LL, 0};
  p.ids = {"doc-41", "λ-7 ünï", "", "a\tb"};
  p.counts = {9, 9, 3, 1};
  p.mean_distance = {0.125, 0.1 + 0.2, 17.0, 1e-300};
  p.metadata_json = R"({"stage":"preselect","k":5,"domain":{"model":"sha256:ab"}})";
  return p;
}

// A file laid out like write_preselected's, with columns the caller may spoil.
void write_raw(const std::string& path, const Preselected& p, const std::string& format = "ntks-preselected",
               std::int64_t version = 1) {
  ntks::store::ArrayFileWriter w(path);
  w.set_attribute("format", format);
  w.set_attribute("format_version", version);
  w.set_attribute("metadata", p.metadata_json);
  w.add("records", {static_cast<std::int64_t>(p.records.size())}, p.records.data());
  w.add_strings("ids", p.ids);
  w.add("counts", {static_cast<std::int64_t>(p.counts.size())}, p.counts.data());
  w.add("mean_distance", {static_cast<std::int64_t>(p.mean_distance.size())}, p.mean_distance.data());
  w.finalize();
}

std::string read_error(const std::string& path) {
  return error_of<InputError>([&] { read_preselected(path); });
}

}  // namespace

TEST(PreselectFile, RoundTrip) {
  TempDir dir;
  const std::string path = dir.file("preselected.h5");
  const Preselected p = sample();
  write_preselected(path, p);
  EXPECT_FALSE(fs::exists(path + ".partial"));
  const Preselected q = read_preselected(path);
  EXPECT_EQ(q.records, p.records);
  EXPECT_EQ(q.ids, p.ids);
  EXPECT_EQ(q.counts, p.counts);
  EXPECT_EQ(q.mean_distance, p.mean_distance);  // bit for bit
  EXPECT_EQ(q.metadata_json, p.metadata_json);
}

TEST(PreselectFile, EmptyListRoundTrips) {
  TempDir dir;
  const std::string path = dir.file("empty.h5");
  Preselected p;
  write_preselected(path, p);
  const Preselected q = read_preselected(path);
  EXPECT_TRUE(q.records.empty() && q.ids.empty() && q.counts.empty() && q.mean_distance.empty());
  EXPECT_EQ(q.metadata_json, "{}");
}

TEST(PreselectFile, WriterRejectsMismatchedColumns) {
  TempDir dir;
  Preselected p = sample();
  p.counts.pop_back();
  error_of<ntks::InternalError>([&] { write_preselected(dir.file("bad.h5"), p); });
  EXPECT_FALSE(fs::exists(dir.file("bad.h5")));
  EXPECT_FALSE(fs::exists(dir.file("bad.h5.partial")));  // an unfinished output is removed
}

TEST(PreselectFile, MissingAndPartialFiles) {
  TempDir dir;
  const std::string path = dir.file("preselected.h5");
  expect_contains(read_error(path), "preselected.h5: no such file");
  std::ofstream(path + ".partial") << "x";
  expect_contains(read_error(path), ".partial exists: the run writing it did not finish");
  expect_contains(read_error(path + ".partial"), "incomplete");
}

TEST(PreselectFile, EmptyNotHdf5TruncatedAndCorrupt) {
  TempDir dir;
  expect_contains(read_error(dir.write("empty.h5", "")), "empty.h5: empty file");
  expect_contains(read_error(dir.write("text.h5", "records,ids\n1,a\n")), "text.h5: not an HDF5 file");

  const std::string good = dir.file("good.h5");
  Preselected big = sample();
  for (int i = 0; i < 3000; ++i) {  // large enough that a cut lands inside the data
    big.records.push_back(100 + i);
    big.ids.push_back("id-" + std::to_string(i));
    big.counts.push_back(1);
    big.mean_distance.push_back(1.5);
  }
  write_preselected(good, big);
  const auto size = fs::file_size(good);
  for (auto cut : {size / 2, size - 1, std::uintmax_t{600}}) {
    const std::string path = dir.file("cut.h5");
    fs::copy_file(good, path, fs::copy_options::overwrite_existing);
    fs::resize_file(path, cut);
    const std::string message = read_error(path);
    expect_contains(message, "cut.h5");
  }
  // Garbage over the middle of the file: an InputError naming it, never a crash.
  const std::string path = dir.file("scribbled.h5");
  fs::copy_file(good, path);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size / 3));
    const std::string junk(static_cast<std::size_t>(size / 3), '\xA5');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  const std::string message = read_error(path);
  expect_contains(message, "scribbled.h5");
}

TEST(PreselectFile, ForeignAndInconsistentFiles) {
  TempDir dir;
  const std::string foreign = dir.file("foreign.h5");
  write_raw(foreign, sample(), "ntks-scores");
  expect_contains(read_error(foreign), "foreign.h5: not a pre-selection file (attribute 'format' is \"ntks-scores\"");

  const std::string future = dir.file("future.h5");
  write_raw(future, sample(), "ntks-preselected", 2);
  expect_contains(read_error(future), "future.h5: pre-selection format_version 2");

  auto expect_inconsistent = [&](const std::string& name, Preselected p, const std::string& what) {
    const std::string path = dir.file(name);
    write_raw(path, p);
    const std::string message = read_error(path);
    expect_contains(message, name + ": inconsistent pre-selection file");
    expect_contains(message, what);
  };
  Preselected p = sample();
  p.ids.pop_back();
  expect_inconsistent("short_ids.h5", p, "columns of different lengths (records 4, ids 3");
  p = sample();
  p.records[2] = 41;
  expect_inconsistent("repeat.h5", p, "record 41 appears twice (records[2])");
  p = sample();
  p.records[1] = -3;
  expect_inconsistent("negative.h5", p, "records[1] = -3 is negative");
  p = sample();
  p.counts[3] = 0;
  expect_inconsistent("zero_count.h5", p, "counts[3] = 0 is below 1");
  p = sample();
  p.mean_distance[0] = std::numeric_limits<double>::quiet_NaN();
  expect_inconsistent("nan.h5", p, "mean_distance[0] = nan is not a finite distance");
  p = sample();
  p.metadata_json = "{not json";
  expect_inconsistent("meta.h5", p, "attribute 'metadata' is not JSON");

  // A column of the wrong element type.
  const std::string typed = dir.file("typed.h5");
  {
    Preselected s = sample();
    ntks::store::ArrayFileWriter w(typed);
    w.set_attribute("format", std::string("ntks-preselected"));
    w.set_attribute("format_version", std::int64_t{1});
    w.set_attribute("metadata", s.metadata_json);
    w.add("records", {4}, s.mean_distance.data());  // float64 where int64 belongs
    w.add_strings("ids", s.ids);
    w.add("counts", {4}, s.counts.data());
    w.add("mean_distance", {4}, s.mean_distance.data());
    w.finalize();
  }
  expect_contains(read_error(typed), "typed.h5: dataset 'records' has type float of 8 bytes, expected an integer");
  // A missing column.
  const std::string missing = dir.file("missing.h5");
  {
    Preselected s = sample();
    ntks::store::ArrayFileWriter w(missing);
    w.set_attribute("format", std::string("ntks-preselected"));
    w.set_attribute("format_version", std::int64_t{1});
    w.set_attribute("metadata", s.metadata_json);
    w.add("records", {4}, s.records.data());
    w.finalize();
  }
  expect_contains(read_error(missing), "missing.h5: no dataset 'ids'");
}

TEST(PreselectFile, ReadsBackInH5py) {
  const std::string python = "/usr/bin/python3";
  if (run_command(python + " -c 'import h5py, numpy'").status != 0) GTEST_SKIP() << python << " lacks h5py";
  const std::string script = std::string(NTKS_SOURCE_DIR) + "/tests/scripts/check_preselected_h5py.py";
  TempDir dir;
  const Preselected p = sample();
  const std::string path = dir.file("preselected.h5");
  write_preselected(path, p);
  auto expected = [&](const Preselected& e) {
    nlohmann::json j{{"records", e.records}, {"ids", e.ids}, {"counts", e.counts},
                     {"mean_distance", e.mean_distance}, {"metadata", nlohmann::json::parse(e.metadata_json)}};
    return dir.write("expected.json", j.dump());
  };
  auto ok = run_command(python + " " + script + " " + path + " " + expected(p));
  EXPECT_EQ(ok.status, 0) << ok.output;
  // The check must be able to fail: one mean distance off by one ulp.
  Preselected wrong = p;
  wrong.mean_distance[1] = std::nextafter(wrong.mean_distance[1], 1.0);
  auto bad = run_command(python + " " + script + " " + path + " " + expected(wrong));
  EXPECT_NE(bad.status, 0);
  expect_contains(bad.output, "mean_distance differ");
}
