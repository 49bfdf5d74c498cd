// WordNet synsets as texts, on the fixture tests/data/wordnet.

#include <gtest/gtest.h>

#include <set>

#include "ntks/corpora/wordnet_text.h"

namespace {

namespace wn = ntks::corpora::wordnet;

const wn::Database& text_db() {
  static const wn::Database db = wn::Database::load(std::string(NTKS_SOURCE_DIR) + "/tests/data/wordnet");
  return db;
}

size_t index_of(char pos, uint32_t offset) { return static_cast<size_t>(text_db().find(pos, offset)); }

TEST(WordNetText, FormsCarryWordsGlossAndExamples) {
  const auto& db = text_db();
  std::set<std::string> fever_texts;
  for (uint64_t seed = 0; seed < 60; ++seed) fever_texts.insert(wn::synset_text(db, index_of('n', 600), seed));
  // Every form of "fever, febrility | a rise in the temperature of the body; "a fever of 103"; ...".
  const std::set<std::string> expected = {
      "fever, febrility: a rise in the temperature of the body. \"a fever of 103\" \"the fever broke; he slept\"",
      "fever (noun): a rise in the temperature of the body. For example: \"a fever of 103.\" Also: febrility.",
      "The word \"fever\" means a rise in the temperature of the body. Other words for it: febrility. \"a fever of "
      "103\" \"the fever broke; he slept\"",
      "\"a fever of 103\" \"the fever broke; he slept\" Here \"fever\" means: a rise in the temperature of the body.",
  };
  EXPECT_EQ(fever_texts, expected);

  std::set<std::string> sue;
  for (uint64_t seed = 0; seed < 60; ++seed) sue.insert(wn::synset_text(db, index_of('v', 200), seed));
  EXPECT_TRUE(sue.count("To sue is to institute legal proceedings against.")) << *sue.begin();
  std::set<std::string> high_fever;  // a hypernym named in the second form
  for (uint64_t seed = 0; seed < 60; ++seed) high_fever.insert(wn::synset_text(db, index_of('n', 700), seed));
  EXPECT_TRUE(high_fever.count("high fever (noun): a fever of 104 or more. It is a kind of fever."));
}

TEST(WordNetText, EverySynsetHasATextThatDependsOnlyOnTheSeed) {
  const auto& db = text_db();
  for (size_t i = 0; i < db.synsets().size(); ++i) {
    const wn::Synset& s = db.synsets()[i];
    const std::string t = wn::synset_text(db, i, 5);
    EXPECT_EQ(t, wn::synset_text(db, i, 5));
    EXPECT_NE(t.find(wn::display_word(s.words.front())), std::string::npos) << t;
    EXPECT_NE(t.find(s.definition), std::string::npos) << t;
  }
  wn::Database none;
  none.add_file_text("00000100 03 n 01 nothing 0 000 | \n", 'n', "data.noun");
  EXPECT_EQ(wn::synset_text(none, 0, 1), "");
}

}  // namespace
