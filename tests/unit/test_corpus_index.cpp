// Corpus byte-offset index: records, global numbering, ranges and shards,
// ids, the cache (reuse, invalidation, corruption, fallback folder) and the
// `ntk-select index` command.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "data/index_file.h"
#include "ntks/data/corpus_index.h"
#include "ntks/dist/communicator.h"
#include "ntks/log/log.h"
#include "ntks/util/error.h"
#include "test_util.h"

namespace ntks::data {
namespace {

using ntks::testing::error_of;
using ntks::testing::TempDir;
namespace fs = std::filesystem;

/// An independent reading of a JSONL file: (line number, text) of every
/// non-blank line, "\r" before "\n" removed.
std::vector<std::pair<uint64_t, std::string>> reference_records(const std::string& text) {
  std::vector<std::pair<uint64_t, std::string>> out;
  std::istringstream in(text);
  std::string line;
  for (uint64_t n = 1; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    bool blank = true;
    for (char c : line) blank = blank && (c == ' ' || c == '\t' || c == '\r');
    if (!blank) out.emplace_back(n, line);
  }
  return out;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Captures log lines while it lives and sets a level that shows info lines.
class LogCapture {
 public:
  LogCapture() : level_(log::level()) {
    log::set_sink(&out_);
    log::set_level(log::Level::Info);
  }
  ~LogCapture() {
    log::set_sink(nullptr);
    log::set_level(level_);
  }
  std::string text() const { return out_.str(); }

 private:
  std::ostringstream out_;
  log::Level level_;
};

/// Every test gets its own cache folder so nothing leaks into ~/.cache.
class CorpusIndexTest : public ::testing::Test {
 protected:
  IndexOptions options() const {
    IndexOptions o;
    o.cache_dir = dir.file("cache");
    return o;
  }
  TempDir dir;
};

std::vector<std::string> all_lines(const CorpusIndex& ix, Range r) {
  std::vector<std::string> out;
  int64_t expect = r.begin;
  ix.for_each(r, [&](int64_t g, std::string_view line) {
    EXPECT_EQ(g, expect++);
    out.emplace_back(line);
  });
  EXPECT_EQ(expect, r.end);
  return out;
}

TEST_F(CorpusIndexTest, RecordsSkipBlankLinesAndStripLineEndings) {
  std::string path = dir.write("a.jsonl", "{\"a\":1}\n\n  \t\n{\"b\":2}\r\n\r\n \r\n{\"c\":3}");
  CorpusIndex ix = CorpusIndex::open({path}, options());
  ASSERT_EQ(ix.size(), 3);
  EXPECT_EQ(ix.read(0), "{\"a\":1}");
  EXPECT_EQ(ix.read(1), "{\"b\":2}");
  EXPECT_EQ(ix.read(2), "{\"c\":3}");  // last line without "\n"
  EXPECT_EQ(ix.locate(1).line, 4u);
  EXPECT_EQ(ix.locate(2).line, 7u);
  EXPECT_EQ(ix.locate(2).offset, std::string("{\"a\":1}\n\n  \t\n{\"b\":2}\r\n\r\n \r\n").size());
  EXPECT_EQ(ix.where(1), path + ":4");
  EXPECT_EQ(ix.file_info()[0].lines, 7u);
  EXPECT_EQ(ix.file_info()[0].records, 3);
}

TEST_F(CorpusIndexTest, EmptyAndBlankFilesHaveNoRecords) {
  std::string empty = dir.write("empty.jsonl", "");
  std::string blank = dir.write("blank.jsonl", "\n \n\r\n");
  CorpusIndex ix = CorpusIndex::open({empty, blank}, options());
  EXPECT_EQ(ix.size(), 0);
  EXPECT_EQ(ix.file_range(0).size(), 0);
  EXPECT_EQ(ix.file_info()[1].lines, 3u);
  EXPECT_TRUE(all_lines(ix, {0, 0}).empty());
  // Loaded again from their caches.
  CorpusIndex again = CorpusIndex::open({empty, blank}, options());
  EXPECT_FALSE(again.file_info()[0].built);
  EXPECT_FALSE(again.file_info()[1].built);
}

TEST_F(CorpusIndexTest, SeveralFilesFormOneNumbering) {
  std::string a = dir.write("a.jsonl", "{\"x\":1}\n{\"x\":2}\n");
  std::string b = dir.write("b.jsonl", "\n");
  std::string c = dir.write("c.jsonl", "{\"x\":3}\n\n{\"x\":4}\n{\"x\":5}\n");
  CorpusIndex ix = CorpusIndex::open({a, b, c}, options());
  EXPECT_EQ(ix.files(), (std::vector<std::string>{a, b, c}));
  ASSERT_EQ(ix.size(), 5);
  EXPECT_EQ(ix.file_range(0).begin, 0);
  EXPECT_EQ(ix.file_range(0).end, 2);
  EXPECT_EQ(ix.file_range(1).size(), 0);
  EXPECT_EQ(ix.file_range(2).begin, 2);
  EXPECT_EQ(ix.file_range(2).end, 5);
  EXPECT_EQ(ix.locate(2).file, 2u);
  EXPECT_EQ(ix.locate(3).line, 3u);
  EXPECT_EQ(ix.where(4), c + ":4");
  EXPECT_EQ(all_lines(ix, {1, 4}), (std::vector<std::string>{"{\"x\":2}", "{\"x\":3}", "{\"x\":4}"}));
}

TEST_F(CorpusIndexTest, RangesMatchANaiveReading) {
  std::mt19937 rng(7);
  std::vector<std::string> paths;
  std::vector<std::string> expected;
  for (int f = 0; f < 3; ++f) {
    std::string text;
    int n = 50 + static_cast<int>(rng() % 200);
    for (int i = 0; i < n; ++i) {
      switch (rng() % 8) {
        case 0: text += "\n"; break;
        case 1: text += " \t\r\n"; break;
        case 2: text += fmt::format("{{\"id\":\"f{}-{}\",\"t\":\"{}\"}}\r\n", f, i, std::string(rng() % 50, 'r')); break;
        default: text += fmt::format("{{\"n\":{},\"t\":\"{}\"}}\n", i, std::string(rng() % 3000, 'x'));
      }
    }
    if (f == 1) text += "{\"last\":true}";  // no final newline
    paths.push_back(dir.write(fmt::format("f{}.jsonl", f), text));
    for (auto& [n, line] : reference_records(text)) expected.push_back(line);
  }
  CorpusIndex ix = CorpusIndex::open(paths, options());
  ASSERT_EQ(ix.size(), static_cast<int64_t>(expected.size()));
  for (int64_t g = 0; g < ix.size(); ++g) ASSERT_EQ(ix.read(g), expected[g]) << g;
  for (int64_t g = 0; g < ix.size(); ++g)
    ASSERT_EQ(ix.record_bytes(g), static_cast<int64_t>(expected[g].size())) << g;  // from the index, no read
  for (int t = 0; t < 50; ++t) {
    int64_t a = rng() % (ix.size() + 1), b = rng() % (ix.size() + 1);
    if (a > b) std::swap(a, b);
    std::vector<std::string> want(expected.begin() + a, expected.begin() + b);
    ASSERT_EQ(all_lines(ix, {a, b}), want) << a << ".." << b;
  }
  EXPECT_EQ(all_lines(ix, {0, ix.size()}), expected);
}

TEST_F(CorpusIndexTest, LinesLongerThanTheReadBlocks) {
  // 17 MiB: spans two of the build's 16 MiB blocks and exceeds for_each's
  // 8 MiB read block, so both the carry-over and the one-record read are used.
  std::string big = "{\"id\":\"big\",\"t\":\"" + std::string(17u << 20, 'b') + "\"}";
  std::string path = dir.write("big.jsonl", "{\"id\":\"small\"}\n" + big + "\n{\"id\":\"after\"}\n");
  CorpusIndex ix = CorpusIndex::open({path}, options());
  ASSERT_EQ(ix.size(), 3);
  EXPECT_EQ(ix.read(1), big);
  std::vector<std::string> lines = all_lines(ix, {0, 3});
  EXPECT_EQ(lines[1], big);
  EXPECT_EQ(lines[2], "{\"id\":\"after\"}");
  EXPECT_EQ(ix.find("big"), 1);
  EXPECT_EQ(ix.find("after"), 2);
}

TEST(ShardRange, CoversDisjointAndBalanced) {
  for (int64_t n : {0, 1, 5, 7, 100, 1001}) {
    for (int k : {1, 2, 3, 7, 16}) {
      int64_t next = 0, lo = n, hi = 0;
      for (int i = 0; i < k; ++i) {
        Range r = shard_range(n, i, k);
        EXPECT_EQ(r.begin, next) << n << " " << i << "/" << k;
        EXPECT_LE(r.begin, r.end);
        next = r.end;
        lo = std::min(lo, r.size());
        hi = std::max(hi, r.size());
        if (i > 0) {
          EXPECT_LE(r.size(), shard_range(n, i - 1, k).size());  // earlier shards take the extra
        }
      }
      EXPECT_EQ(next, n);
      EXPECT_LE(hi - lo, 1);
    }
  }
  EXPECT_EQ(shard_range(10, 0, 3).size(), 4);
  EXPECT_EQ(shard_range(10, 2, 3).begin, 7);
}

TEST(ShardRange, RejectsBadArguments) {
  EXPECT_NE(error_of<UsageError>([] { shard_range(10, 3, 3); }).find("shard 3 of 3"), std::string::npos);
  EXPECT_NE(error_of<UsageError>([] { shard_range(10, -1, 3); }).find("shard -1"), std::string::npos);
  EXPECT_NE(error_of<UsageError>([] { shard_range(10, 0, 0); }).find("0"), std::string::npos);
  error_of<UsageError>([] { shard_range(-1, 0, 1); });
}

TEST_F(CorpusIndexTest, IdsFromTheFieldOrTheLocation) {
  std::string path = dir.write("ids.jsonl",
                               "{\"id\":\"alpha\",\"text\":\"a\"}\n"
                               "{\"text\":\"no id\",\"meta\":{\"id\":\"nested\"}}\n"
                               "{\"text\":\"b\",\"id\":42}\n"
                               "not json at all\n"
                               "{\"id\":null}\n"
                               "{\"id\":1.5}\n"
                               "{\"id\":\"\"}\n"
                               "[\"id\",\"array\"]\n"
                               "{\"\\u0069d\":\"escaped\"}\n");
  CorpusIndex ix = CorpusIndex::open({path}, options());
  ASSERT_EQ(ix.size(), 9);
  EXPECT_EQ(ix.id(0), "alpha");
  EXPECT_EQ(ix.id(1), path + ":2");  // a nested id is not the record's
  EXPECT_EQ(ix.id(2), "42");
  EXPECT_EQ(ix.id(3), path + ":4");
  EXPECT_EQ(ix.id(4), path + ":5");
  EXPECT_EQ(ix.id(5), path + ":6");
  EXPECT_EQ(ix.id(6), path + ":7");
  EXPECT_EQ(ix.id(7), path + ":8");
  EXPECT_EQ(ix.id(8), "escaped");
  EXPECT_EQ(ix.find("alpha"), 0);
  EXPECT_EQ(ix.find("42"), 2);
  EXPECT_EQ(ix.find("escaped"), 8);
  EXPECT_EQ(ix.find(path + ":4"), 3);
  EXPECT_EQ(ix.find(path + ":1"), 0);  // a location names a record with an id field too
  EXPECT_EQ(ix.find("nested"), std::nullopt);
  EXPECT_EQ(ix.find("missing"), std::nullopt);
  EXPECT_EQ(ix.find(path + ":3000"), std::nullopt);
  EXPECT_EQ(ix.find(path + ":x"), std::nullopt);
  EXPECT_EQ(ix.find("other.jsonl:1"), std::nullopt);
  EXPECT_EQ(ix.duplicate_ids().ids, 0);
}

TEST_F(CorpusIndexTest, OtherIdField) {
  std::string path = dir.write("ids.jsonl", "{\"id\":\"a\",\"uid\":\"u1\"}\n{\"id\":\"b\"}\n");
  IndexOptions o = options();
  o.id_field = "uid";
  CorpusIndex ix = CorpusIndex::open({path}, o);
  EXPECT_EQ(ix.id(0), "u1");
  EXPECT_EQ(ix.id(1), path + ":2");
  EXPECT_EQ(ix.find("u1"), 0);
  EXPECT_EQ(ix.find("a"), std::nullopt);
  // The id field is part of the cache key.
  CorpusIndex back = CorpusIndex::open({path}, options());
  EXPECT_TRUE(back.file_info()[0].built);
  EXPECT_NE(back.file_info()[0].reason.find("id field 'uid'"), std::string::npos) << back.file_info()[0].reason;
  EXPECT_EQ(back.find("a"), 0);
}

TEST_F(CorpusIndexTest, DuplicateIdsAreReportedWithBothPlaces) {
  std::string a = dir.write("a.jsonl", "{\"id\":\"x\"}\n{\"id\":\"y\"}\n{\"id\":\"x\"}\n");
  std::string b = dir.write("b.jsonl", "{\"id\":\"y\"}\n{\"id\":\"z\"}\n{\"id\":\"y\"}\n");
  CorpusIndex ix = CorpusIndex::open({a, b}, options());
  std::string e = error_of<InputError>([&] { ix.find("x"); });
  EXPECT_NE(e.find(a + ":1"), std::string::npos) << e;
  EXPECT_NE(e.find(a + ":3"), std::string::npos) << e;
  e = error_of<InputError>([&] { ix.find("y"); });
  EXPECT_NE(e.find("3 records"), std::string::npos) << e;
  EXPECT_NE(e.find(a + ":2"), std::string::npos) << e;
  EXPECT_NE(e.find(b + ":1"), std::string::npos) << e;
  EXPECT_EQ(ix.find("z"), 4);
  DuplicateIds d = ix.duplicate_ids(1);
  EXPECT_EQ(d.ids, 2);
  EXPECT_EQ(d.records, 5);
  ASSERT_EQ(d.examples.size(), 1u);
}

TEST_F(CorpusIndexTest, HashCollisionsNeverGiveAWrongRecord) {
  detail::set_id_hash_for_testing([](std::string_view) { return uint64_t{42}; });
  struct Reset {
    ~Reset() { detail::set_id_hash_for_testing({}); }
  } reset;
  std::string path = dir.write("c.jsonl", "{\"id\":\"a\"}\n{\"id\":\"b\"}\n{\"id\":\"c\"}\n{\"id\":\"b2\"}\n");
  CorpusIndex ix = CorpusIndex::open({path}, options());
  EXPECT_EQ(ix.find("a"), 0);
  EXPECT_EQ(ix.find("b"), 1);
  EXPECT_EQ(ix.find("c"), 2);
  EXPECT_EQ(ix.find("b2"), 3);
  EXPECT_EQ(ix.find("d"), std::nullopt);
  EXPECT_EQ(ix.duplicate_ids().ids, 0);
  detail::set_id_hash_for_testing({});
  // A cache written under another hash is not trusted.
  CorpusIndex real = CorpusIndex::open({path}, options());
  EXPECT_TRUE(real.file_info()[0].built);
  EXPECT_EQ(real.find("c"), 2);
}

TEST_F(CorpusIndexTest, SecondOpenLoadsTheCache) {
  std::string path = dir.write("a.jsonl", "{\"id\":\"a\"}\n{\"id\":\"b\"}\n");
  CorpusIndex first = CorpusIndex::open({path}, options());
  EXPECT_TRUE(first.file_info()[0].built);
  EXPECT_EQ(first.file_info()[0].reason, "no cache");
  EXPECT_EQ(first.file_info()[0].cache, path + ".ntksidx");
  EXPECT_TRUE(fs::exists(path + ".ntksidx"));
  CorpusIndex second = CorpusIndex::open({path}, options());
  EXPECT_FALSE(second.file_info()[0].built);
  EXPECT_EQ(second.file_info()[0].cache, path + ".ntksidx");
  EXPECT_EQ(second.find("b"), 1);
  EXPECT_EQ(second.read(1), "{\"id\":\"b\"}");
  IndexOptions o = options();
  o.rebuild = true;
  CorpusIndex third = CorpusIndex::open({path}, o);
  EXPECT_TRUE(third.file_info()[0].built);
  EXPECT_EQ(third.file_info()[0].reason, "rebuild requested");
}

TEST_F(CorpusIndexTest, ChangedFilesAreReindexed) {
  std::string path = dir.write("a.jsonl", "{\"id\":\"a\"}\n{\"id\":\"b\"}\n");
  CorpusIndex::open({path}, options());
  const auto t0 = fs::last_write_time(path);

  // Appended: size changed.
  { std::ofstream(path, std::ios::app) << "{\"id\":\"c\"}\n"; }
  LogCapture logs;
  CorpusIndex appended = CorpusIndex::open({path}, options());
  EXPECT_TRUE(appended.file_info()[0].built);
  EXPECT_NE(appended.file_info()[0].reason.find("size"), std::string::npos) << appended.file_info()[0].reason;
  EXPECT_EQ(appended.size(), 3);
  EXPECT_EQ(appended.find("c"), 2);
  EXPECT_NE(logs.text().find("stale"), std::string::npos) << logs.text();

  // Same size, new mtime.
  dir.write("a.jsonl", "{\"id\":\"A\"}\n{\"id\":\"B\"}\n{\"id\":\"C\"}\n");
  fs::last_write_time(path, t0 + std::chrono::seconds(10));
  CorpusIndex rewritten = CorpusIndex::open({path}, options());
  EXPECT_TRUE(rewritten.file_info()[0].built);
  EXPECT_NE(rewritten.file_info()[0].reason.find("modification time"), std::string::npos)
      << rewritten.file_info()[0].reason;
  EXPECT_EQ(rewritten.find("B"), 1);

  // Same size and mtime, different head: only the checksum tells.
  const auto t1 = fs::last_write_time(path);
  dir.write("a.jsonl", "{\"id\":\"X\"}\n{\"id\":\"B\"}\n{\"id\":\"C\"}\n");
  fs::last_write_time(path, t1);
  CorpusIndex same_stat = CorpusIndex::open({path}, options());
  EXPECT_TRUE(same_stat.file_info()[0].built);
  EXPECT_NE(same_stat.file_info()[0].reason.find("64 KiB"), std::string::npos) << same_stat.file_info()[0].reason;
  EXPECT_EQ(same_stat.find("X"), 0);
  EXPECT_FALSE(CorpusIndex::open({path}, options()).file_info()[0].built);
}

TEST_F(CorpusIndexTest, ChangedTailOfALargeFileIsNoticed) {
  std::string body;
  for (int i = 0; i < 2000; ++i) body += fmt::format("{{\"id\":\"r{:05}\",\"t\":\"{}\"}}\n", i, std::string(80, 'x'));
  std::string path = dir.write("big.jsonl", body);
  CorpusIndex::open({path}, options());
  const auto t = fs::last_write_time(path);
  body[body.size() - 5] = 'y';  // past the first 64 KiB
  dir.write("big.jsonl", body);
  fs::last_write_time(path, t);
  CorpusIndex again = CorpusIndex::open({path}, options());
  EXPECT_TRUE(again.file_info()[0].built);
  EXPECT_NE(again.file_info()[0].reason.find("64 KiB"), std::string::npos);
}

TEST_F(CorpusIndexTest, CorruptOrTruncatedCachesAreRebuiltNotTrusted) {
  std::string text;
  for (int i = 0; i < 100; ++i) text += fmt::format("{{\"id\":\"r{}\"}}\n", i);
  std::string path = dir.write("a.jsonl", text);
  CorpusIndex::open({path}, options());
  const std::string cache = path + ".ntksidx";
  const std::string good = slurp(cache);
  ASSERT_GT(good.size(), 200u);

  auto reopen_with = [&](const std::string& bytes, const std::string& expect) {
    std::ofstream(cache, std::ios::binary | std::ios::trunc) << bytes;
    LogCapture logs;
    CorpusIndex ix = CorpusIndex::open({path}, options());
    EXPECT_TRUE(ix.file_info()[0].built) << expect;
    EXPECT_NE(ix.file_info()[0].reason.find(expect), std::string::npos) << ix.file_info()[0].reason;
    EXPECT_NE(logs.text().find("unusable"), std::string::npos) << logs.text();
    EXPECT_EQ(ix.size(), 100);
    EXPECT_EQ(ix.find("r57"), 57);
    EXPECT_EQ(slurp(cache), good);  // rewritten whole
  };
  std::string flipped = good;
  flipped[good.size() / 2] ^= 0x40;  // inside the offsets array
  reopen_with(flipped, "checksum");
  reopen_with(good.substr(0, good.size() - 9), "truncated");
  reopen_with(good.substr(0, 40), "shorter than its header");
  reopen_with(std::string(200, 'g'), "not an ntk-select");
  reopen_with("", "shorter than its header");
  // A cache whose checksum matches but whose arrays do not fit the file
  // (here the last record's length grows past its end) is not trusted either.
  std::string forged = good;
  {
    // Layout: 88-byte header, "id" padded to 8, offsets, lines, lengths (u32, padded), ids, checksum.
    const size_t lengths_at = 88 + 8 + 100 * 8 * 2;
    uint32_t len = 0;
    std::memcpy(&len, forged.data() + lengths_at + 99 * 4, 4);
    len += 1000;
    std::memcpy(forged.data() + lengths_at + 99 * 4, &len, 4);
    const uint64_t sum = detail::xxh3(std::string_view(forged.data(), forged.size() - 8));
    std::memcpy(forged.data() + forged.size() - 8, &sum, 8);
  }
  reopen_with(forged, "ends past the file");
  std::string version = good;
  version[8] = 99;
  reopen_with(version, "format version");
}

TEST_F(CorpusIndexTest, UnwritableCorpusFolderUsesTheCacheFolder) {
  detail::set_folder_writable_for_testing([](const std::string&) { return false; });
  struct Reset {
    ~Reset() { detail::set_folder_writable_for_testing({}); }
  } reset;
  std::string path = dir.write("a.jsonl", "{\"id\":\"a\"}\n");
  CorpusIndex ix = CorpusIndex::open({path}, options());
  const std::string cache = ix.file_info()[0].cache;
  EXPECT_FALSE(fs::exists(path + ".ntksidx"));
  EXPECT_EQ(fs::path(cache).parent_path(), fs::path(dir.file("cache")));
  EXPECT_TRUE(fs::exists(cache));
  CorpusIndex again = CorpusIndex::open({path}, options());
  EXPECT_FALSE(again.file_info()[0].built);
  EXPECT_EQ(again.file_info()[0].cache, cache);

  // A stale cache beside the file does not hide a valid one in the cache folder.
  detail::set_folder_writable_for_testing({});
  std::string other = dir.write("b.jsonl", "{\"id\":\"b\"}\n");
  CorpusIndex::open({other}, options());
  ASSERT_TRUE(fs::exists(other + ".ntksidx"));
  { std::ofstream(other, std::ios::app) << "{\"id\":\"c\"}\n"; }
  detail::set_folder_writable_for_testing([](const std::string&) { return false; });
  CorpusIndex rebuilt = CorpusIndex::open({other}, options());
  EXPECT_TRUE(rebuilt.file_info()[0].built);
  EXPECT_EQ(fs::path(rebuilt.file_info()[0].cache).parent_path(), fs::path(dir.file("cache")));
  {
    LogCapture logs;
    CorpusIndex loaded = CorpusIndex::open({other}, options());
    EXPECT_FALSE(loaded.file_info()[0].built);
    EXPECT_EQ(loaded.file_info()[0].cache, rebuilt.file_info()[0].cache);
    EXPECT_EQ(loaded.find("c"), 1);
    EXPECT_EQ(logs.text().find("stale"), std::string::npos) << logs.text();
  }

  // Without the option: $NTKS_CACHE_DIR.
  ::setenv("NTKS_CACHE_DIR", dir.file("env-cache").c_str(), 1);
  CorpusIndex env = CorpusIndex::open({path}, IndexOptions{});
  ::unsetenv("NTKS_CACHE_DIR");
  EXPECT_EQ(fs::path(env.file_info()[0].cache).parent_path(), fs::path(dir.file("env-cache")));
  EXPECT_TRUE(env.file_info()[0].built);
}

TEST_F(CorpusIndexTest, FileChangedAfterOpenIsAnError) {
  std::string path = dir.write("a.jsonl", "{\"id\":\"a\"}\n{\"id\":\"b\"}\n");
  CorpusIndex ix = CorpusIndex::open({path}, options());
  { std::ofstream(path, std::ios::app) << "{\"id\":\"c\"}\n"; }
  std::string e = error_of<InputError>([&] { ix.read(0); });
  EXPECT_NE(e.find(path), std::string::npos) << e;
  EXPECT_NE(e.find("changed since it was indexed"), std::string::npos) << e;
  error_of<InputError>([&] { ix.for_each({0, 2}, [](int64_t, std::string_view) {}); });
  error_of<InputError>([&] { ix.find("a"); });
}

TEST_F(CorpusIndexTest, MissingFileIsAnInputErrorNamingIt) {
  std::string path = dir.file("nope.jsonl");
  std::string e = error_of<InputError>([&] { CorpusIndex::open({path}, options()); });
  EXPECT_NE(e.find(path), std::string::npos) << e;
  e = error_of<InputError>([&] { CorpusIndex::open({dir.path().string()}, options()); });
  EXPECT_NE(e.find("not a regular file"), std::string::npos) << e;
}

TEST_F(CorpusIndexTest, OpenSharedOnOneRank) {
  std::string path = dir.write("a.jsonl", "{\"id\":\"a\"}\n{\"id\":\"b\"}\n");
  auto comm = dist::make_local();
  CorpusIndex ix = CorpusIndex::open_shared({path}, options(), *comm);
  EXPECT_EQ(ix.size(), 2);
  EXPECT_TRUE(ix.file_info()[0].built);
  EXPECT_FALSE(CorpusIndex::open_shared({path}, options(), *comm).file_info()[0].built);
  std::string e = error_of<InputError>([&] { CorpusIndex::open_shared({dir.file("no.jsonl")}, options(), *comm); });
  EXPECT_NE(e.find("no.jsonl"), std::string::npos) << e;
}

// ---- ntk-select index ----

class IndexCommandTest : public CorpusIndexTest {
 protected:
  void SetUp() override {
    a = dir.write("a.jsonl", "{\"id\":\"a1\",\"t\":1}\n\n{\"t\":2}\r\n{\"id\":7}\n");
    b = dir.write("b.jsonl", "{\"id\":\"b1\"}\n{\"id\":\"b2\"}\n{\"t\":\"last\"}");
  }
  /// Runs the binary; stdout only in `output` (stderr to a file read into `log`).
  ntks::testing::CommandResult index(const std::string& args, std::string* log = nullptr) {
    const std::string err = dir.file("stderr.txt");
    auto r = ntks::testing::run_command(fmt::format("(NTKS_CACHE_DIR={} {} index {} {} --dist local 2>{})",
                                                     dir.file("cache"), NTKS_BINARY, a + " " + b, args, err));
    if (log) *log = slurp(err);
    return r;
  }
  std::string a, b;
};

TEST_F(IndexCommandTest, SummaryBuildsThenReusesTheCaches) {
  std::string log;
  auto r = index("", &log);
  ASSERT_EQ(r.status, 0) << r.output << log;
  EXPECT_NE(r.output.find("total: 2 files, 6 records, 7 lines"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(a + ".ntksidx (built"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("duplicate ids: 0"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::exists(b + ".ntksidx"));
  r = index("");
  EXPECT_NE(r.output.find("loaded in"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("built in"), std::string::npos) << r.output;
  r = index("--rebuild");
  EXPECT_NE(r.output.find("rebuild requested"), std::string::npos) << r.output;
}

TEST_F(IndexCommandTest, RangePrintsTheRecordsAcrossFiles) {
  auto r = index("--range 1:5");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "{\"t\":2}\n{\"id\":7}\n{\"id\":\"b1\"}\n{\"id\":\"b2\"}\n");
  EXPECT_EQ(index("--range 4:").output, "{\"id\":\"b2\"}\n{\"t\":\"last\"}\n");
  EXPECT_EQ(index("--range :1").output, "{\"id\":\"a1\",\"t\":1}\n");
  EXPECT_EQ(index("--range 3:3").output, "");
}

TEST_F(IndexCommandTest, IdsAndIdsFile) {
  auto r = index("--ids b2,7," + a + ":3");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "{\"id\":\"b2\"}\n{\"id\":7}\n{\"t\":2}\n");
  std::string list = dir.write("ids.txt", "a1\r\n\n" + b + ":3\n");
  r = index("--ids-file " + list);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "{\"id\":\"a1\",\"t\":1}\n{\"t\":\"last\"}\n");
}

TEST_F(IndexCommandTest, ShardsCoverTheCorpusOnce) {
  std::string all;
  for (int i = 0; i < 4; ++i) {
    auto r = index(fmt::format("--shard {} --num-shards 4", i));
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), i < 2 ? 2 : 1) << i;
    all += r.output;
  }
  EXPECT_EQ(all, index("--range 0:6").output);
  // A shard of a range.
  EXPECT_EQ(index("--range 2:6 --shard 1 --num-shards 2").output, "{\"id\":\"b2\"}\n{\"t\":\"last\"}\n");
}

TEST_F(IndexCommandTest, ErrorsNameTheProblem) {
  std::string log;
  auto r = index("--ids nope", &log);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(log.find("--ids: id 'nope' is not in " + a), std::string::npos) << log;
  std::string list = dir.write("ids.txt", "a1\nmissing\n");
  r = index("--ids-file " + list, &log);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(log.find(list + ":2: id 'missing'"), std::string::npos) << log;
  r = index("--range 2:9", &log);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(log.find("--range 2:9"), std::string::npos) << log;
  EXPECT_NE(log.find("6 records"), std::string::npos) << log;
  r = index("--range x:2", &log);
  EXPECT_EQ(r.status, 2);
  r = index("--shard 4 --num-shards 4", &log);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(log.find("shard 4 of 4"), std::string::npos) << log;
  r = index("--shard 1", &log);
  EXPECT_EQ(r.status, 2);
  r = index("--ids a1 --range 0:1", &log);
  EXPECT_EQ(r.status, 2);
  std::string missing = dir.file("missing.jsonl");
  r = ntks::testing::run_command(fmt::format("{} index {} --dist local 2>&1", NTKS_BINARY, missing));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find(missing + ": cannot be read"), std::string::npos) << r.output;
  // Duplicate ids: a warning with their count; looking one up names both places.
  std::string dup = dir.write("dup.jsonl", "{\"id\":\"x\"}\n{\"id\":\"x\"}\n");
  r = ntks::testing::run_command(fmt::format("{} index {} --dist local 2>&1", NTKS_BINARY, dup));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("1 ids name more than one record"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("duplicate ids: 1"), std::string::npos) << r.output;
  r = ntks::testing::run_command(fmt::format("{} index {} --ids x --dist local 2>&1", NTKS_BINARY, dup));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find(dup + ":1 and " + dup + ":2"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace ntks::data
