// The exclusion's containment test against a brute-force search on random
// texts, and its whitespace and length rules.

#include <gtest/gtest.h>

#include "ntks/corpora/verbatim_filter.h"
#include "ntks/select/shuffle.h"

namespace {

using ntks::corpora::normalize_space;
using ntks::corpora::VerbatimFilter;

TEST(VerbatimFilter, NormalizesWhitespace) {
  EXPECT_EQ(normalize_space("  a\t\tb \n\r c  "), "a b c");
  EXPECT_EQ(normalize_space(""), "");
  EXPECT_EQ(normalize_space(" \n "), "");
}

TEST(VerbatimFilter, Rules) {
  VerbatimFilter f;
  EXPECT_FALSE(f.add("too short, 19 bytes"));
  EXPECT_TRUE(f.add("exactly twenty bytes"));
  EXPECT_FALSE(f.add(" exactly  twenty\nbytes "));  // the same string once normalized
  EXPECT_TRUE(f.add("a rise in the temperature of the body"));
  EXPECT_EQ(f.size(), 2u);
  EXPECT_EQ(f.find_in("nothing here"), -1);
  EXPECT_EQ(f.find_in("exactly twenty bytes"), 0);
  EXPECT_EQ(f.find_in("Fever: a rise in the\n   temperature of the body; frequently"), 1);  // wrapped
  EXPECT_EQ(f.find_in("a rise in the temperature of the bod"), -1);  // one byte short
  EXPECT_EQ(f.find_in("A rise in the temperature of the body"), -1);   // case counts
  EXPECT_EQ(VerbatimFilter().find_in("exactly twenty bytes"), -1);
}

// Random texts over a small alphabet (so that windows repeat and hashes are
// hit often), patterns cut from them or made up; the filter must agree with
// std::string::find on the normalized strings every time.
TEST(VerbatimFilter, AgreesWithBruteForce) {
  ntks::select::SplitMix64 g(7);
  auto random_text = [&](size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s += "ab \n"[g.below(4)];
    return s;
  };
  for (int round = 0; round < 40; ++round) {
    std::vector<std::string> texts;
    for (int k = 0; k < 20; ++k) texts.push_back(random_text(20 + g.below(300)));
    VerbatimFilter f;
    std::vector<std::string> patterns;
    for (int k = 0; k < 8; ++k) {
      const std::string& t = texts[g.below(texts.size())];
      const size_t len = 20 + g.below(40), at = g.below(t.size());
      std::string p = g.below(2) ? t.substr(at, len) : random_text(len);
      if (f.add(p)) patterns.push_back(normalize_space(p));
    }
    for (const std::string& t : texts) {
      const std::string n = normalize_space(t);
      bool brute = false;
      for (const std::string& p : patterns) brute = brute || n.find(p) != std::string::npos;
      const long found = f.find_in(t);
      EXPECT_EQ(found >= 0, brute) << "round " << round << " text '" << t << "'";
      if (found >= 0) EXPECT_NE(n.find(f.string(static_cast<size_t>(found))), std::string::npos);
    }
  }
}

}  // namespace
