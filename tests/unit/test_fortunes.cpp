// fortune files: the fixture tests/data/fortunes (wisdom, its .dat and .u8
// that are not read, zen with CRLF lines), overstrikes, bad input.

#include <gtest/gtest.h>

#include "ntks/corpora/fortunes.h"
#include "ntks/util/error.h"
#include "test_util.h"

namespace {

namespace fortunes = ntks::corpora::fortunes;
using ntks::testing::error_of;
using ntks::testing::TempDir;

const std::string kFortunesFixture = std::string(NTKS_SOURCE_DIR) + "/tests/data/fortunes";

TEST(Fortunes, ReadsTheFixture) {
  const fortunes::Collection c = fortunes::read_dir(kFortunesFixture);
  EXPECT_EQ(c.files, (std::vector<std::string>{"wisdom", "zen"}));
  ASSERT_EQ(c.records.size(), 4u);
  EXPECT_TRUE(c.skipped.empty());
  EXPECT_EQ(c.records[0].text, "A fever of 103 is no joke, said the doctor.");
  EXPECT_EQ(c.records[0].line, 1u);
  // An empty record between "%" lines is no record; overstrikes read as shown.
  EXPECT_EQ(c.records[1].text, "Underlined: word and BODY!");
  EXPECT_EQ(c.records[1].number, 2u);
  EXPECT_EQ(c.records[1].line, 4u);
  EXPECT_EQ(c.records[2].text, "  Two lines,\n  the second indented.");
  EXPECT_EQ(c.records[3].file, "zen");
  EXPECT_EQ(c.records[3].number, 1u);
  EXPECT_EQ(c.records[3].text,
            "The only zen you find on the tops of mountains is the zen you bring up there.\n\t\t-- Robert M. Pirsig");
}

TEST(Fortunes, OverstrikesAndControlCharacters) {
  fortunes::Collection c;
  // A backspace erases one character, a multi-byte one whole; a bell goes.
  fortunes::parse("caf\xc3\xa9\bx\a!\n", "f", "dir/f", c);
  ASSERT_EQ(c.records.size(), 1u);
  EXPECT_EQ(c.records[0].text, "cafx!");
}

TEST(Fortunes, BadInputIsNamed) {
  fortunes::Collection c;
  fortunes::parse("fine\n%\nnot \xff UTF-8\n%\nfine too\n", "f", "dir/f", c);
  ASSERT_EQ(c.records.size(), 2u);
  EXPECT_EQ(c.records[1].text, "fine too");
  ASSERT_EQ(c.skipped.size(), 1u);
  EXPECT_EQ(c.skipped[0], "dir/f:3: invalid UTF-8 at byte 5 of the record; record skipped");

  TempDir dir;
  std::string msg = error_of<ntks::InputError>([&] { fortunes::read_dir(dir.file("none")); });
  EXPECT_NE(msg.find(dir.file("none") + " is missing (Debian: apt-get install fortunes fortunes-min"),
            std::string::npos)
      << msg;
  dir.write("x.dat", "strfile");
  msg = error_of<ntks::InputError>([&] { fortunes::read_dir(dir.path().string()); });
  EXPECT_NE(msg.find("holds no fortune files"), std::string::npos) << msg;
}

}  // namespace
