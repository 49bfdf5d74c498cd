// The WordNet reader, topic labels, the demo draw and the on-topic report, on
// the hand-written fixture tests/data/wordnet (expected values worked out by
// hand from its pointers) and, where installed, on Debian's wordnet-base.

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

#include "ntks/corpora/wordnet_demo.h"
#include "ntks/util/error.h"
#include "ntks/util/files.h"
#include "test_util.h"

namespace {

namespace wn = ntks::corpora::wordnet;
using ntks::testing::error_of;
using ntks::testing::TempDir;

const std::string kWordnetFixture = std::string(NTKS_SOURCE_DIR) + "/tests/data/wordnet";

const wn::Database& wordnet_db() {
  static const wn::Database db = wn::Database::load(kWordnetFixture);
  return db;
}

const wn::Synset& synset(char pos, uint32_t offset) {
  const long i = wordnet_db().find(pos, offset);
  EXPECT_GE(i, 0) << pos << offset;
  return wordnet_db().synsets()[static_cast<size_t>(i)];
}

// Topic names of every synset's label, keyed by its first word.
std::map<std::string, std::vector<std::string>> fixture_labels() {
  const auto& db = wordnet_db();
  const auto labels = wn::label_synsets(db);
  std::map<std::string, std::vector<std::string>> out;
  for (size_t i = 0; i < labels.size(); ++i) {
    std::vector<std::string>& names = out[db.synsets()[i].words.front()];
    for (size_t d : labels[i]) names.push_back(wn::topic_name(db.synsets()[d]));
  }
  return out;
}

TEST(WordNet, ParsesTheFixture) {
  const auto& db = wordnet_db();
  EXPECT_EQ(db.synsets().size(), 24u);  // 18 nouns, 2 verbs, 3 adjectives, 1 adverb

  const wn::Synset& fever = synset('n', 600);
  EXPECT_EQ(fever.words, (std::vector<std::string>{"fever", "febrility"}));
  EXPECT_EQ(fever.definition, "a rise in the temperature of the body");
  // The second example holds "; " and an attribution after its closing quote.
  EXPECT_EQ(fever.examples, (std::vector<std::string>{"a fever of 103", "the fever broke; he slept"}));
  ASSERT_EQ(fever.pointers.size(), 3u);
  EXPECT_EQ(fever.pointers[0].symbol, ";c");
  EXPECT_EQ(fever.pointers[0].offset, 300u);
  EXPECT_EQ(fever.pointers[2].symbol, "+");
  EXPECT_EQ(fever.pointers[2].pos, 'a');
  EXPECT_EQ(fever.pointers[2].source, 1);
  EXPECT_EQ(fever.pointers[2].target, 1);

  // Adjective markers go; a satellite keeps its type and reads as an adjective.
  const wn::Synset& feverish = synset('a', 300);
  EXPECT_EQ(feverish.words, (std::vector<std::string>{"feverish", "hot"}));
  EXPECT_EQ(feverish.ss_type, 's');
  EXPECT_EQ(synset('a', 100).words, (std::vector<std::string>{"febrile"}));
  // A verb with no pointers and two frames.
  EXPECT_TRUE(synset('v', 200).pointers.empty());
  EXPECT_EQ(synset('v', 200).definition, "institute legal proceedings against");
}

TEST(WordNet, SplitsGlosses) {
  std::string def;
  std::vector<std::string> ex;
  wn::split_gloss("a quick look  ", def, ex);
  EXPECT_EQ(def, "a quick look");
  EXPECT_TRUE(ex.empty());
  wn::split_gloss("\"only an example\"", def, ex);
  EXPECT_EQ(def, "");
  EXPECT_EQ(ex, (std::vector<std::string>{"only an example"}));
  wn::split_gloss("first part; second part; \"ex one\"; \"ex two\" -- Author", def, ex);
  EXPECT_EQ(def, "first part; second part");
  EXPECT_EQ(ex, (std::vector<std::string>{"ex one", "ex two"}));
  // A quote inside the definition does not open an example.
  wn::split_gloss("be willing (usually followed by \"to\"); \"I am ready to go\"", def, ex);
  EXPECT_EQ(def, "be willing (usually followed by \"to\")");
  EXPECT_EQ(ex, (std::vector<std::string>{"I am ready to go"}));
}

TEST(WordNet, MalformedLinesNameFileAndLine) {
  const std::string good = "00000100 03 n 01 entity 0 000 | that which exists  \n";
  struct Case {
    std::string line, says;
  };
  const std::vector<Case> cases = {
      {"00000200 03 n 01 thing 0 000 that which is\n", "no ' | '"},
      {"0000200 03 n 01 thing 0 000 | x\n", "synset_offset '0000200'"},
      {"00000200 03 v 01 thing 0 000 | x\n", "ss_type 'v'"},
      {"00000200 03 n 01 thing 0 001 @ 00000100 x 0000 | x\n", "pointer pos 'x'"},
      {"00000200 03 n 01 thing 0 002 @ 00000100 n 0000 | x\n", "line ends before its pointer symbol"},
      {"00000200 03 n 01 thing 0 000 @ 00000100 n 0000 | x\n", "unexpected '@'"},
      {"00000200 03 n 02 thing 0 | x\n", "line ends before its word"},
      {"00000200 03 n 01 thing 0 001 @ 00000100 n 0300 | x\n", "source word 3"},
      {"00000100 03 n 01 again 0 000 | x\n", "appears twice (first at data.noun:2)"},
  };
  for (const Case& c : cases) {
    wn::Database db;
    const std::string msg =
        error_of<ntks::InputError>([&] { db.add_file_text("  1 header\n" + good + c.line, 'n', "data.noun"); });
    EXPECT_NE(msg.find("data.noun:3: "), std::string::npos) << msg;
    EXPECT_NE(msg.find(c.says), std::string::npos) << msg;
  }
  // A pointer to a synset no file holds is caught after loading, at its source line.
  wn::Database db;
  db.add_file_text(good + "00000200 03 n 01 thing 0 001 @ 00000999 n 0000 | x\n", 'n', "data.noun");
  const std::string msg = error_of<ntks::InputError>([&] { db.check_pointers(); });
  EXPECT_NE(msg.find("data.noun:2: pointer '@' to synset 00000999"), std::string::npos) << msg;
}

TEST(WordNet, MissingFileIsNamed) {
  TempDir dir;
  for (const char* f : {"data.noun", "data.verb", "data.adj"})
    std::filesystem::copy_file(kWordnetFixture + "/" + f, dir.file(f));
  const std::string msg = error_of<ntks::InputError>([&] { wn::Database::load(dir.path().string()); });
  EXPECT_NE(msg.find(dir.file("data.adv") + " is missing"), std::string::npos) << msg;
  EXPECT_NE(msg.find("wordnet-base"), std::string::npos) << msg;
}

TEST(WordNet, LabelsFollowDomainsThenUpToThreeHypernyms) {
  using V = std::vector<std::string>;
  const auto labels = fixture_labels();
  const std::map<std::string, V> expected = {
      {"entity", {}}, {"science", {}}, {"table", {}}, {"spreadsheet", {}}, {"afebrile", {}}, {"quickly", {}},
      {"medicine", {"medicine"}},    // a domain with no domain of its own is its own topic
      {"surgery", {"surgery"}},
      {"law", {"law"}},
      {"fever", {"medicine"}},       // ;c
      {"high_fever", {"medicine"}},  // 1 hop
      {"hyperpyrexia", {"medicine"}},  // 2 hops
      {"chill", {"medicine"}},
      {"shivering", {"medicine"}},
      {"teeth_chattering", {"medicine"}},
      {"castanet_teeth", {"medicine"}},  // 3 hops
      {"far_cousin", {}},                // 4 hops: too far
      {"appendectomy", {"surgery"}},
      {"contract", {"law"}},
      {"malpractice", {"law", "medicine"}},  // pointer order
      {"operate", {"surgery"}},
      {"sue", {"law"}},           // only the domain's inverse pointer -c names it
      {"febrile", {"medicine"}},
      {"feverish", {"medicine"}},  // satellite: through its head adjective
  };
  EXPECT_EQ(labels, expected);
}

TEST(WordNet, TopicMembersFollowHypernymsOfDomains) {
  const auto& db = wordnet_db();
  EXPECT_EQ(wn::topic_members(db, "medicine"), (std::vector<std::string>{"medicine", "surgery"}));
  EXPECT_EQ(wn::topic_members(db, "surgery"), (std::vector<std::string>{"surgery"}));
  EXPECT_EQ(wn::topic_members(db, "law"), (std::vector<std::string>{"law"}));
  EXPECT_EQ(wn::topic_members(db, "Jurisprudence"), (std::vector<std::string>{"law"}));  // any lemma, any case
  EXPECT_TRUE(wn::topic_members(db, "astronomy").empty());
  EXPECT_EQ(wn::all_topic_names(db), (std::vector<std::string>{"law", "medicine", "surgery"}));
  const auto sizes = wn::topic_sizes(db, {"medicine", "law", "surgery"});
  EXPECT_EQ(sizes, (std::vector<std::pair<std::string, size_t>>{{"medicine", 13}, {"law", 3}, {"surgery", 3}}));
}

TEST(WordNet, SamplesCoverEveryKind) {
  const auto& db = wordnet_db();
  const auto labels = wn::label_synsets(db);
  std::set<std::string> kinds;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    for (size_t i = 0; i < db.synsets().size(); ++i) {
      wn::Sample s;
      ASSERT_TRUE(wn::make_sample(db, i, labels, seed, s));
      EXPECT_FALSE(s.instruction.empty()) << s.id;
      EXPECT_FALSE(s.output.empty()) << s.id;
      kinds.insert(s.id.substr(s.id.rfind('-') + 1));
      if (s.id == "wn-a00000100-antonym") {
        EXPECT_EQ(s.instruction, "What is the opposite of the adjective 'febrile'?");
        EXPECT_EQ(s.output, "The opposite of 'febrile' is 'afebrile': having no fever.");
      }
      if (s.id == "wn-n00000600-example") {
        EXPECT_EQ(s.output, "a fever of 103");
        EXPECT_EQ(s.input, "Sense: a rise in the temperature of the body");
      }
      if (s.id == "wn-n00000700-hypernym")
        EXPECT_EQ(s.output, "'high fever' is a kind of 'fever': a rise in the temperature of the body.");
    }
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"antonym", "define", "example", "hypernym", "reverse", "synonyms"}));
  wn::Sample s;
  ASSERT_TRUE(wn::make_sample(db, static_cast<size_t>(db.find('n', 1100)), labels, 3, s));
  const std::string line = wn::sample_json_line(s);
  EXPECT_NE(line.find("\"topic\":\"law\",\"topics\":[\"law\",\"medicine\"]}"), std::string::npos) << line;
}

std::string jsonl(const std::vector<wn::Sample>& v) {
  std::string t;
  for (const auto& s : v) t += wn::sample_json_line(s);
  return t;
}

TEST(WordNet, DrawIsDisjointLabelledAndDeterministic) {
  const auto& db = wordnet_db();
  wn::DemoOptions opt;
  opt.topic = "medicine";
  opt.domain_size = 5;
  opt.pool_size = 8;
  opt.on_topic_share = 0.25;  // 2 of 8
  opt.test_size = 3;          // 5 + 2 + 3 of the 13 on-topic synsets
  std::set<std::string> pools;
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    opt.seed = seed;
    const wn::DemoSet set = wn::draw_demo_set(db, opt);
    ASSERT_EQ(set.domain.size(), 5u);
    ASSERT_EQ(set.pool.size(), 8u);
    EXPECT_EQ(set.on_topic_synsets, 13u);
    EXPECT_EQ(set.off_topic_synsets, 10u);
    EXPECT_EQ(set.mixed_synsets, 1u);
    std::set<size_t> domain_synsets;
    for (const auto& s : set.domain) {
      domain_synsets.insert(s.synset);
      ASSERT_FALSE(s.topics.empty());
      for (const auto& t : s.topics) EXPECT_TRUE(t == "medicine" || t == "surgery") << s.id;
    }
    size_t on = 0;
    for (const auto& s : set.pool) {
      EXPECT_EQ(domain_synsets.count(s.synset), 0u) << s.id;  // disjoint by synset
      EXPECT_NE(db.synsets()[s.synset].words.front(), "malpractice");  // mixed: left out
      bool in = !s.topics.empty();
      for (const auto& t : s.topics) in = in && (t == "medicine" || t == "surgery");
      on += in;
    }
    EXPECT_EQ(on, 2u);
    EXPECT_EQ(set.pool_on_topic, 2u);
    // The test set: on-topic, in neither the domain set nor the pool.
    ASSERT_EQ(set.test.size(), 3u);
    std::set<size_t> used = domain_synsets;
    for (const auto& s : set.pool) used.insert(s.synset);
    for (const auto& s : set.test) {
      EXPECT_EQ(used.count(s.synset), 0u) << s.id;
      used.insert(s.synset);
      ASSERT_FALSE(s.topics.empty());
      for (const auto& t : s.topics) EXPECT_TRUE(t == "medicine" || t == "surgery") << s.id;
    }
    // Each test sample is a question: its output at `answer` among distinct
    // outputs of test or pool samples of its kind.
    std::map<std::string, std::set<std::string>> outputs_of_kind;
    for (const auto* part : {&set.test, &set.pool})
      for (const auto& s : *part) outputs_of_kind[s.kind].insert(s.output);
    for (const auto& s : set.test) {
      if (s.options.empty()) {
        EXPECT_EQ(outputs_of_kind[s.kind].size(), 1u) << s.id;  // none only when no other output of its kind exists
        continue;
      }
      EXPECT_EQ(s.options.size(), std::min<size_t>(wn::kDistractors, outputs_of_kind[s.kind].size() - 1) + 1) << s.id;
      ASSERT_LT(s.answer, s.options.size()) << s.id;
      EXPECT_EQ(s.options[s.answer], s.output) << s.id;
      EXPECT_EQ(std::set<std::string>(s.options.begin(), s.options.end()).size(), s.options.size()) << s.id;
      for (const auto& o : s.options) EXPECT_EQ(outputs_of_kind[s.kind].count(o), 1u) << s.id << ": " << o;
      EXPECT_NE(wn::sample_json_line(s).find("\"answer\":"), std::string::npos);
    }
    for (const auto& s : set.domain) EXPECT_TRUE(s.options.empty()) << s.id;
    for (const auto& s : set.pool) EXPECT_TRUE(s.options.empty()) << s.id;
    // Its size does not change the other two.
    wn::DemoOptions no_test = opt;
    no_test.test_size = 0;
    const wn::DemoSet without = wn::draw_demo_set(db, no_test);
    EXPECT_TRUE(without.test.empty());
    EXPECT_EQ(jsonl(without.domain), jsonl(set.domain));
    EXPECT_EQ(jsonl(without.pool), jsonl(set.pool));
    // The same seed gives the same bytes.
    const wn::DemoSet again = wn::draw_demo_set(db, opt);
    EXPECT_EQ(jsonl(again.domain), jsonl(set.domain));
    EXPECT_EQ(jsonl(again.pool), jsonl(set.pool));
    EXPECT_EQ(jsonl(again.test), jsonl(set.test));
    EXPECT_EQ(wn::labels_json(again, opt, "x"), wn::labels_json(set, opt, "x"));
    pools.insert(jsonl(set.pool));
  }
  EXPECT_GT(pools.size(), 1u);  // seeds matter

  opt.on_topic_share = -1;  // natural: 13 of 23 eligible, rounded on 8
  const wn::DemoSet natural = wn::draw_demo_set(db, opt);
  EXPECT_EQ(natural.pool_on_topic, 5u);  // round(8 * 13 / 23) = round(4.52)
  EXPECT_EQ(natural.test.size(), 3u);    // 5 + 5 + 3: every on-topic synset
  EXPECT_NE(wn::labels_json(natural, opt, "x").find("\"on_topic_share\": \"natural\""), std::string::npos);
}

TEST(WordNet, DrawRefusesWhatItCannotDo) {
  const auto& db = wordnet_db();
  wn::DemoOptions opt;
  opt.topic = "medicine";
  opt.domain_size = 12;
  opt.pool_size = 8;
  opt.on_topic_share = 0.25;
  opt.test_size = 0;
  std::string msg = error_of<ntks::UsageError>([&] { wn::draw_demo_set(db, opt); });
  EXPECT_NE(msg.find("has 13 on-topic synsets, too few for --domain-size 12 plus 2"), std::string::npos) << msg;
  opt.domain_size = 5;  // 5 + 2 fit, the test set does not
  opt.test_size = 7;
  msg = error_of<ntks::UsageError>([&] { wn::draw_demo_set(db, opt); });
  EXPECT_NE(msg.find("has 13 on-topic synsets, too few for --domain-size 5 plus 2 on-topic pool samples (0.25 of "
                     "--pool-size 8) plus --test-size 7 (needs 14)"),
            std::string::npos)
      << msg;
  opt.test_size = 0;
  opt.domain_size = 2;
  opt.pool_size = 20;
  msg = error_of<ntks::UsageError>([&] { wn::draw_demo_set(db, opt); });
  EXPECT_NE(msg.find("only 10 off-topic synsets for 15"), std::string::npos) << msg;
  opt.topic = "medecine";
  msg = error_of<ntks::UsageError>([&] { wn::draw_demo_set(db, opt); });
  EXPECT_NE(msg.find("nearest: 'medicine'"), std::string::npos) << msg;
}

TEST(WordNet, CountsOnTopicSelections) {
  const std::unordered_map<std::string, bool> pool = {{"a", true}, {"b", false}, {"c", true}, {"d", false}};
  const wn::TopicShare s = wn::count_on_topic({"a", "b", "c"}, pool, 0.05, "ids.txt");
  EXPECT_EQ(s.selected, 3u);
  EXPECT_EQ(s.on_topic, 2u);
  EXPECT_EQ(wn::format_share(s), "on-topic: 2 of 3 selected (66.7%) vs pool base rate 5.0%");
  EXPECT_EQ(wn::format_share(wn::count_on_topic({}, pool, 0.5, "x")),
            "on-topic: 0 of 0 selected (0.0%) vs pool base rate 50.0%");
  std::string msg = error_of<ntks::InputError>([&] { wn::count_on_topic({"a", "zz"}, pool, 0, "ids.txt", {1, 4}); });
  EXPECT_NE(msg.find("ids.txt:4: 'zz' is not in the pool"), std::string::npos) << msg;
  msg = error_of<ntks::InputError>([&] { wn::count_on_topic({"a", "b", "a"}, pool, 0, "ids.txt"); });
  EXPECT_NE(msg.find("ids.txt: id 3: 'a' is selected twice"), std::string::npos) << msg;
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

// Debian's wordnet-base (cluster/install-deps installs it). The counts were
// checked against an independent Python reading of the same files.
TEST(WordNet, RealDatabaseSmoke) {
  const std::string dir = "/usr/share/wordnet";
  if (!std::filesystem::exists(dir + "/data.noun")) GTEST_SKIP() << "wordnet-base is not installed";
  const wn::Database db = wn::Database::load(dir);
  EXPECT_EQ(db.synsets().size(), 117659u);  // WordNet 3.0
  const auto sizes = wn::topic_sizes(db, wn::named_topics());
  EXPECT_EQ(sizes, (std::vector<std::pair<std::string, size_t>>{
                       {"medicine", 1770}, {"finance", 220}, {"law", 1207}, {"psychology", 490}}));
  wn::DemoOptions opt;
  opt.topic = "medicine";
  const wn::DemoSet set = wn::draw_demo_set(db, opt);
  EXPECT_EQ(set.mixed_synsets, 15u);
  EXPECT_EQ(set.domain.size(), 200u);
  EXPECT_EQ(set.pool.size(), 5000u);
  EXPECT_EQ(set.pool_on_topic, 250u);
  ASSERT_EQ(set.test.size(), 200u);
  std::set<size_t> used;
  for (const auto* part : {&set.domain, &set.pool, &set.test})
    for (const auto& s : *part) EXPECT_TRUE(used.insert(s.synset).second) << s.id;
  // The same domain set and pool as demo-data wrote before it had a test set
  // (size and FNV-1a of those files, seed 1).
  EXPECT_EQ(jsonl(set.domain).size(), 52198u);
  EXPECT_EQ(fnv1a(jsonl(set.domain)), 0xb1f2241c2962e56cULL);
  EXPECT_EQ(jsonl(set.pool).size(), 1162624u);
  EXPECT_EQ(fnv1a(jsonl(set.pool)), 0x403c3e420e340a5dULL);
  // Every test sample is a 4-way question, its answer anywhere: the other 199
  // test samples hold at least 3 other outputs of every kind, or the pool does.
  std::map<size_t, size_t> answers;
  for (const auto& s : set.test) {
    ASSERT_EQ(s.options.size(), 4u) << s.id;
    EXPECT_EQ(s.options[s.answer], s.output) << s.id;
    ++answers[s.answer];
  }
  EXPECT_EQ(answers.size(), 4u);
  for (const auto& [at, n] : answers) EXPECT_GT(n, 30u) << at;  // about 50 each
  const auto members = wn::topic_members(db, "medicine");
  for (const char* m : {"medicine", "surgery", "pathology", "psychiatry", "dentistry"})
    EXPECT_NE(std::find(members.begin(), members.end(), m), members.end()) << m;
}

}  // namespace
