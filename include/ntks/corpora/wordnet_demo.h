#pragma once
// Instruction samples made from WordNet synsets, the demo's domain set and
// candidate pool, and the on-topic share of a selection (`ntk-select demo-data`).
//
// Each synset gives at most one sample; its kind is drawn (from the seed and
// the synset, so it does not depend on draw order) among the kinds the synset
// supports: define, example, reverse, synonyms, hypernym, antonym.
//
// The draw: synsets are on-topic (every label among the topic's members),
// off-topic (no label among them; unlabelled ones included) or mixed (both;
// left out of domain set and pool, so the pool's labels are unambiguous).
// The domain set takes domain_size on-topic synsets; the pool takes
// round(share * pool_size) other on-topic ones and the rest off-topic, then is
// shuffled; the held-out test set takes the next test_size on-topic synsets
// (none in the domain set or the pool). The test set is drawn after the
// other two, so they do not depend on its size. Each test sample is also a
// multiple-choice question: its output among 3 distractors, the outputs of
// other test samples of the same kind (of pool samples of that kind when
// fewer exist), drawn with the seed, the true one's position drawn too. Shuffles are Fisher-Yates on SplitMix64 (select/shuffle.h), so the
// files are byte-identical for a seed on every platform.

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ntks/corpora/wordnet.h"

namespace ntks::corpora::wordnet {

struct Sample {
  std::string id;           ///< "wn-<pos><offset>-<kind>", e.g. "wn-n06043075-define"
  std::string instruction;
  std::string input;
  std::string output;
  std::vector<std::string> topics;  ///< topic names of the synset's label; empty: general
  size_t synset = 0;                ///< index in Database::synsets()
  std::string kind;                 ///< define, example, reverse, synonyms, hypernym or antonym
  /// Test samples: the output and its distractors (empty: none; a sample
  /// without a distractor of its kind gets none), and the output's index.
  std::vector<std::string> options;
  size_t answer = 0;
};

/// Whether a synset supports any kind (it has a definition, an example, a
/// hypernym or an antonym).
bool has_sample(const Synset& s);

/// The sample of synset `index` for `seed`; false when the synset supports no
/// kind (no definition and no example).
bool make_sample(const Database& db, size_t index, const std::vector<std::vector<size_t>>& labels, uint64_t seed,
                 Sample& out);

/// One JSONL line (with "\n"): id, instruction, input, output, topic (first
/// label's topic or "general"), topics (all of them), and options and answer
/// when the sample has options.
std::string sample_json_line(const Sample& s);

struct DemoOptions {
  std::string topic;            ///< --domain
  size_t domain_size = 200;
  size_t pool_size = 5000;
  size_t test_size = 200;       ///< held-out on-topic samples (test.jsonl); 0: none
  double on_topic_share = 0.05; ///< < 0: the natural share among eligible synsets
  uint64_t seed = 1;
};

struct DemoSet {
  std::vector<std::string> members;  ///< topic names that count as on-topic
  std::vector<Sample> domain, pool, test;
  size_t pool_on_topic = 0;
  size_t on_topic_synsets = 0, off_topic_synsets = 0, mixed_synsets = 0;  ///< eligible synsets by class
  double natural_share = 0;          ///< on / (on + off)
};

/// Distractors per multiple-choice test sample.
constexpr size_t kDistractors = 3;

/// Draws the domain set, the pool and the test set (see above). Throws
/// UsageError when the topic is unknown or has too few synsets for the sizes asked.
DemoSet draw_demo_set(const Database& db, const DemoOptions& opt);

/// labels.json: topic, members, sizes, the pool's base rate and topic counts.
std::string labels_json(const DemoSet& set, const DemoOptions& opt, const std::string& wordnet_dir);

/// Per topic name (all_topic_names), eligible synsets that are on-topic for it.
std::vector<std::pair<std::string, size_t>> topic_sizes(const Database& db, const std::vector<std::string>& names);

struct TopicShare {
  size_t selected = 0;
  size_t on_topic = 0;
  double base_rate = 0;  ///< on-topic share of the pool
  /// The first few selected samples (best first), one line each: topic,
  /// instruction and output, shortened; filled by on_topic_report().
  std::vector<std::string> examples;
  double share() const { return selected ? static_cast<double>(on_topic) / selected : 0; }
};

/// Counts the on-topic ids among `selected`. `on_topic` maps every pool id to
/// whether it is on-topic; an id not in it, or repeated, throws InputError
/// naming `where` and the id's line (lines[k]; the 1-based position if absent).
TopicShare count_on_topic(const std::vector<std::string>& selected, const std::unordered_map<std::string, bool>& on_topic,
                          double base_rate, const std::string& where, const std::vector<size_t>& lines = {});

/// "on-topic: X of M selected (Y%) vs pool base rate Z%".
std::string format_share(const TopicShare& s);

/// Reads DIR/labels.json and DIR/pool.jsonl written by demo-data and the ids
/// file (one id per line, blank lines ignored), and counts.
TopicShare on_topic_report(const std::string& demo_dir, const std::string& ids_file);

}  // namespace ntks::corpora::wordnet
