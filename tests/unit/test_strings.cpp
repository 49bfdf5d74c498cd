#include <gtest/gtest.h>

#include "ntks/util/error.h"
#include "ntks/util/strings.h"

namespace {

TEST(Strings, EditDistance) {
  EXPECT_EQ(ntks::edit_distance("", ""), 0u);
  EXPECT_EQ(ntks::edit_distance("dim", "dimm"), 1u);
  EXPECT_EQ(ntks::edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(ntks::edit_distance("abc", ""), 3u);
}

TEST(Strings, NearestPicksClosestFirstOnTies) {
  EXPECT_EQ(ntks::nearest("grads.dimm", {"grads.dim", "grads.seed", "select.size"}), "grads.dim");
  EXPECT_EQ(ntks::nearest("ab", {"aa", "bb"}), "aa");
  EXPECT_EQ(ntks::nearest("x", {}), "");
}

TEST(Strings, SplitAndJoin) {
  EXPECT_EQ(ntks::split("a.b..c", '.'), (std::vector<std::string>{"a", "b", "", "c"}));
  EXPECT_EQ(ntks::split("", '.'), (std::vector<std::string>{""}));
  EXPECT_EQ(ntks::join({"a", "b", "c"}, ", "), "a, b, c");
}

TEST(Check, ReportsExpressionLocationAndValues) {
  try {
    int rows = 3;
    NTKS_CHECK(rows == 4, "rows {} vs keys {}", rows, 4);
    FAIL() << "no throw";
  } catch (const ntks::InternalError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("rows == 4"), std::string::npos) << m;
    EXPECT_NE(m.find("test_strings.cpp:"), std::string::npos) << m;
    EXPECT_NE(m.find("rows 3 vs keys 4"), std::string::npos) << m;
  }
  EXPECT_NO_THROW(NTKS_CHECK(1 + 1 == 2));
}

}  // namespace
