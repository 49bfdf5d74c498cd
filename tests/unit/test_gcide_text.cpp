// GCIDE entries as plain text: the fixture's entries and small hand-made
// ones for each rule of gcide_text.h.

#include <gtest/gtest.h>

#include "ntks/corpora/dictd.h"
#include "ntks/corpora/gcide_text.h"

namespace {

namespace gcide = ntks::corpora::gcide;

const std::string kGcideFixture = std::string(NTKS_SOURCE_DIR) + "/tests/data/dictd";

TEST(GcideText, CleansTheFixture) {
  const auto db = ntks::corpora::dictd::read(kGcideFixture, "gcide", "dict-gcide");
  ASSERT_EQ(db.entries.size(), 5u);
  // Pronunciation and respelling gone, stress marks out of the braces, the
  // WordNet sense dropped, one paragraph a line.
  EXPECT_EQ(gcide::entry_text(db.entries[0].text),
            "Fever, n. [AS. fefer, fr. L. febris.] 1. (Med.) A diseased state of the system, marked by increased "
            "heat, acceleration of the pulse, and a general derangement of the functions. --Dunglison.\n"
            "2. Excitement by anything that strongly affects the feelings; as, a fever of joy. See Feverish.");
  EXPECT_EQ(gcide::entry_text(db.entries[1].text), "");  // afebrile: WordNet's only
  EXPECT_EQ(gcide::entry_text(db.entries[2].text), "Café, n. [F.] A coffee house; a restaurant.");
  EXPECT_EQ(gcide::entry_text(db.entries[3].text),  // an editor's tag closes it
            "Surgery, n. the branch of medical science that treats disease or injury by operative procedures");
  // A sense credited to Webster and WordNet together goes too; usage labels stay.
  EXPECT_EQ(gcide::entry_text(db.entries[4].text), "Quack, n. A boastful pretender to medical skill. [Colloq.]");
}

TEST(GcideText, Rules) {
  // Respellings over two lines; a second headword with its own pronunciation.
  EXPECT_EQ(gcide::entry_text("Accolade \\Ac`co*lade\"\\ ([a^]k`k[-o]*l[=a]d\" or\n   [a^]k`k[-o]*l[.a]d\"; 277), n.\n"
                              "   A ceremony.\n   [1913 Webster]\n"),
            "Accolade, n. A ceremony.");
  EXPECT_EQ(gcide::entry_text("Aaronic \\Aa*ron\"ic\\ ([asl]*r[o^]n\"[i^]k), Aaronical\n\\Aa*ron\"ic*al\\ "
                              "(-[i^]*kal), a.\n   Pertaining to Aaron.\n   [1913 Webster]\n"),
            "Aaronic, Aaronical, a. Pertaining to Aaron.");
  // Respellings after plurals and derived forms; other parentheses stay.
  EXPECT_EQ(gcide::entry_text("Radix, n.; pl. L. Radices (r[a^]d\"[i^]*s[=e]z), E. Radixes (r[=a]\"d[i^]ks*[e^]z). "
                              "(Math.) A base (\"ten\")."),
            "Radix, n.; pl. L. Radices, E. Radixes. (Math.) A base (\"ten\").");
  // A parenthesis after a pronunciation that is no respelling stays.
  EXPECT_EQ(gcide::entry_text("Abb \\Abb\\ (Naut.) n.\n  Yarn.\n  [1913 Webster]"), "Abb (Naut.) n. Yarn.");
  // Character codes, known and unknown; a quote in braces that is no stress mark.
  EXPECT_EQ(gcide::entry_text("[AE]on, [ae]on; [=a], [oe], [deg]. [zz] {\"Quoted\"}."),
            "Æon, æon; ā, œ, °. [zz] \"Quoted\".");
  // An unmatched backslash is left alone rather than eating the rest of the entry.
  EXPECT_EQ(gcide::entry_text("a \\ b }c{ d"), "a \\ b c d");
  // Source lines with text after them (a GCIDE slip) still end a sense.
  EXPECT_EQ(gcide::entry_text("one.\n   [1913 Webster WordNet 1.5] Aaronic\n\ntwo.\n   [1913 Webster]\n"), "two.");
  EXPECT_EQ(gcide::character("=a"), "ā");
  EXPECT_EQ(gcide::character("nope"), "");
}

}  // namespace
