// dictd databases: base64 numbers, the hand-made fixture tests/data/dictd
// (made by make_dictd.py from gcide.txt), plain text, and every kind of bad
// file naming the file and the line or byte.

#include <gtest/gtest.h>

#include <filesystem>

#include "corpora/gzip.h"
#include "ntks/corpora/dictd.h"
#include "ntks/util/error.h"
#include "ntks/util/files.h"
#include "test_util.h"

namespace {

namespace dictd = ntks::corpora::dictd;
using ntks::testing::error_of;
using ntks::testing::TempDir;

const std::string kDictdFixture = std::string(NTKS_SOURCE_DIR) + "/tests/data/dictd";

std::string fixture_file(const std::string& name) { return ntks::read_file(kDictdFixture + "/" + name); }

TEST(Dictd, DecodesBase64Numbers) {
  uint64_t v = 0;
  ASSERT_TRUE(dictd::decode_number("A", v));
  EXPECT_EQ(v, 0u);
  ASSERT_TRUE(dictd::decode_number("BF", v));
  EXPECT_EQ(v, 69u);  // 1 * 64 + 5
  ASSERT_TRUE(dictd::decode_number("/+", v));
  EXPECT_EQ(v, 63u * 64 + 62);
  ASSERT_TRUE(dictd::decode_number("Fz", v));
  EXPECT_EQ(v, 5u * 64 + 51);
  EXPECT_FALSE(dictd::decode_number("", v));
  EXPECT_FALSE(dictd::decode_number("A!", v));
  EXPECT_FALSE(dictd::decode_number("AAAAAAAAAAA", v));  // 11 digits: could overflow
}

TEST(Dictd, ReadsTheFixture) {
  const dictd::Database db = dictd::read(kDictdFixture, "gcide", "dict-gcide");
  // Five entries in dict order; "fever" and "Café" name entries that
  // "Fever" and "Cafe" name already; the two 00-database entries are not entries.
  ASSERT_EQ(db.entries.size(), 5u);
  EXPECT_TRUE(db.skipped.empty());
  EXPECT_EQ(db.entries[0].headword, "Fever");
  EXPECT_EQ(db.entries[0].index_line, 6u);
  EXPECT_EQ(db.entries[0].text.substr(0, 22), "Fever \\Fe\"ver\\ (f[=e]\"");
  EXPECT_EQ(db.entries[1].headword, "afebrile");
  EXPECT_EQ(db.entries[2].headword, "Cafe");
  EXPECT_EQ(db.entries[3].headword, "Surgery");
  EXPECT_EQ(db.entries[4].headword, "Quack");
  EXPECT_EQ(db.entries[4].index_line, 8u);
  EXPECT_EQ(db.entries[4].text.back(), '\n');

  const dictd::Database devil = dictd::read(kDictdFixture, "devil", "dict-devil");
  ASSERT_EQ(devil.entries.size(), 2u);
  EXPECT_EQ(dictd::plain_text(devil.entries[1].text), "LAWYER, n.  One skilled in circumvention of the law.");
}

TEST(Dictd, PlainText) {
  // The Jargon File's layout: headword at column 0, the body indented by 4.
  EXPECT_EQ(dictd::plain_text("\nleak\n n.\n\n    A {memory leak} is a bug.  \n      Indented more.\n\n\n"
                              "    Two.\n"),
            "leak\n n.\n\nA memory leak is a bug.\n  Indented more.\n\n\nTwo.");
  EXPECT_EQ(dictd::plain_text("   one line"), "one line");
  EXPECT_EQ(dictd::plain_text("      head\n    {}  \n      x"), "head\n\nx");  // a line of braces is blank
  EXPECT_EQ(dictd::plain_text(""), "");
}

TEST(Dictd, MissingFilesNameThePackage) {
  TempDir dir;
  std::string msg = error_of<ntks::InputError>([&] { dictd::read(dir.path().string(), "jargon", "dict-jargon"); });
  EXPECT_NE(msg.find(dir.file("jargon.index") + " is missing (Debian: apt-get install dict-jargon"),
            std::string::npos)
      << msg;
  dir.write("jargon.index", "x\tA\tB\n");
  msg = error_of<ntks::InputError>([&] { dictd::read(dir.path().string(), "jargon", "dict-jargon"); });
  EXPECT_NE(msg.find(dir.file("jargon.dict.dz") + " is missing"), std::string::npos) << msg;
}

// Bad files: each case writes gcide.index and gcide.dict.dz into a fresh
// folder and names what the error must say.
TEST(Dictd, CorruptFilesNameFileAndPlace) {
  const std::string index = ntks::read_file(kDictdFixture + "/gcide.index");
  const std::string dz = fixture_file("gcide.dict.dz");
  const std::string text = ntks::corpora::gunzip(dz, "fixture");
  std::string truncated = dz.substr(0, dz.size() / 2);
  std::string flipped = dz;
  flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x55);
  struct Case {
    std::string what, index, dict, says;
  };
  const std::vector<Case> cases = {
      {"not gzip", index, text, "gcide.dict.dz: not a gzip file"},
      {"truncated", index, truncated, "gcide.dict.dz: gzip data ends early"},
      {"flipped byte", index, flipped, "gcide.dict.dz: corrupt gzip data at compressed byte"},
      {"past the end", index + "Zebra\tBF\tZZZ\n", dz,
       "gcide.index:10: entry 'Zebra' at bytes 69..104094 ends past the end of"},
      {"no tabs", "word A B\n", dz, "gcide.index:1: expected 'headword<TAB>offset<TAB>length', got 'word A B'"},
      {"bad number", "\nword\tA!\tB\n", dz, "gcide.index:2: offset 'A!' or length 'B' is not a dictd base64 number"},
      {"headword not UTF-8", "caf\xe9\tA\tB\n", dz, "gcide.index:1: headword is not valid UTF-8 (byte 4)"},
      {"empty index", "\n", dz, "gcide.index lists no entries"},
  };
  for (const Case& c : cases) {
    TempDir dir;
    dir.write("gcide.index", c.index);
    dir.write("gcide.dict.dz", c.dict);
    const std::string msg = error_of<ntks::InputError>([&] { dictd::read(dir.path().string(), "gcide", "dict-gcide"); });
    EXPECT_NE(msg.find(c.says), std::string::npos) << c.what << ": " << msg;
    EXPECT_EQ(msg.rfind(dir.path().string(), 0), 0u) << c.what << ": " << msg;  // the whole path
  }
}

TEST(Dictd, EntriesThatAreNotUtf8AreLeftOutAndNamed) {
  // GCIDE itself has three (a stray Windows-1252 apostrophe and the like):
  // one bad byte should not cost the whole dictionary.
  const std::string dict = "good entry\nbad \x92 entry\n";
  const dictd::Database db = dictd::parse("bad\tL\tM\ngood\tA\tL\n", dict, "x.index", "x.dict.dz");
  ASSERT_EQ(db.entries.size(), 1u);
  EXPECT_EQ(db.entries[0].text, "good entry\n");
  ASSERT_EQ(db.skipped.size(), 1u);
  EXPECT_EQ(db.skipped[0], "x.dict.dz: entry 'bad' (x.index:1): invalid UTF-8 at byte 5 of the entry");
}

TEST(Dictd, GunzipReadsConcatenatedMembers) {
  const std::string dz = fixture_file("devil.dict.dz");
  const std::string one = ntks::corpora::gunzip(dz, "devil");
  EXPECT_EQ(ntks::corpora::gunzip(dz + dz, "devil"), one + one);
  EXPECT_NE(one.find("ABASEMENT, n."), std::string::npos);
}

}  // namespace
