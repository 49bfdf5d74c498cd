#pragma once
// The WordNet 3.0 database files (Debian's wordnet-base: data.noun, data.verb,
// data.adj, data.adv; format in wndb(5WN)) and the topic labels of their
// synsets, for the demo data of `ntk-select demo-data`.
//
// A data line is
//   offset lex_filenum ss_type w_cnt word lex_id [word lex_id...] p_cnt [ptr...] [frames...] | gloss
// with w_cnt two hex digits, p_cnt three decimal digits, each pointer
// "symbol offset pos source/target" (source/target: four hex digits, 0000 for
// a relation between whole synsets), verb frames "f_cnt + f_num w_num ..." in
// data.verb only, and the gloss "definition; \"example\"; ...". Lines that
// start with two spaces are the license header.
//
// Topic labels. WordNet marks some synsets with the topic domain they belong
// to: pointer ";c D" on the member (and "-c M" on the domain D, its inverse).
// The label of a synset S:
//   own(S)   = the domains D with "S ;c D" or "D -c S" (in pointer order);
//              if none and S is itself a domain, S alone; else none.
//   label(S) = own(S) if not empty; else the union of own(A) over the
//              ancestors A at the nearest hypernym distance 1..kLabelHops
//              that has any (ancestors by "@" hypernym and "@i" instance
//              hypernym, and for adjective satellites "&" to their head);
//              else none ("general").
// A topic's name is the first lemma of its domain synset, lower-cased
// ("medicine", "computer_science"); synsets that share that name are one topic.

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace ntks::corpora::wordnet {

/// Hypernym steps a synset without a domain of its own looks up for one.
inline constexpr int kLabelHops = 3;

struct Pointer {
  std::string symbol;   ///< "@", "@i", "~", ";c", "-c", "!", "&", ...
  char pos = 'n';       ///< part of speech of the target: n, v, a, r ('s' read as 'a')
  uint32_t offset = 0;  ///< target synset offset in the data file of `pos`
  int source = 0;       ///< source word number (1-based); 0: the whole synset
  int target = 0;       ///< target word number (1-based); 0: the whole synset
};

struct Synset {
  char pos = 'n';       ///< data file: n, v, a, r
  char ss_type = 'n';   ///< n, v, a, s (adjective satellite), r
  uint32_t offset = 0;
  std::vector<std::string> words;  ///< lemmas as written: underscores for spaces, adjective markers removed
  std::vector<Pointer> pointers;
  std::string definition;              ///< gloss text before the examples (may be empty)
  std::vector<std::string> examples;   ///< the gloss's quoted example sentences, without quotes
};

/// A synset's key across the four files.
inline uint64_t synset_key(char pos, uint32_t offset) {
  return (static_cast<uint64_t>(static_cast<unsigned char>(pos)) << 32) | offset;
}

/// Parses one data line (not a header line) of the file whose part of speech
/// is `pos`. Throws InputError "<where>: problem" (where = "file:line").
Synset parse_data_line(const std::string& line, char pos, const std::string& where);

/// Splits a gloss into its definition and quoted examples.
void split_gloss(const std::string& gloss, std::string& definition, std::vector<std::string>& examples);

/// A lemma for text: underscores become spaces.
std::string display_word(const std::string& word);

/// `s` with ASCII letters lower-cased (lemmas compare so).
std::string lower(std::string s);

/// "noun", "verb", "adjective" or "adverb" for a data file's part of speech.
const char* pos_name(char pos);

/// A definition as the end of a sentence: a period added unless it ends in . ! or ?.
std::string sentence(const std::string& text);

class Database {
 public:
  /// Reads DIR/data.{noun,verb,adj,adv}. Throws InputError naming the file
  /// (and line) when one is missing or malformed, or when a pointer names a
  /// synset that none of the files holds.
  static Database load(const std::string& dir);

  const std::vector<Synset>& synsets() const { return synsets_; }
  /// Index of the synset (pos 's' is read as 'a'); -1 when absent.
  long find(char pos, uint32_t offset) const;

  /// Appends the synsets of one data file's text (tests use it directly).
  void add_file_text(const std::string& text, char pos, const std::string& file);
  /// Checks that every pointer resolves; InputError names the source synset's file:line.
  void check_pointers() const;

 private:
  std::vector<Synset> synsets_;
  std::vector<std::string> where_;  ///< "file:line" of each synset
  std::unordered_map<uint64_t, size_t> index_;
};

/// label(S) of every synset (see above), as indices of domain synsets, in order.
std::vector<std::vector<size_t>> label_synsets(const Database& db);

/// The topic name of a domain synset: its first lemma, lower-cased.
std::string topic_name(const Synset& domain);

/// Named topics with more than one root lemma: "medicine" -> {medicine,
/// medical_science}, "finance", "law", "psychology" (the paper's domains).
/// Any other name is its own single root.
std::vector<std::string> topic_roots(const std::string& name);
/// The names given by topic_roots' table, in order.
std::vector<std::string> named_topics();

/// The topic names that make up topic `name`: those of the domain synsets that
/// have, on themselves or any hypernym ancestor, a lemma (lower-cased) among
/// topic_roots(name). Sorted. Empty when nothing matches.
std::vector<std::string> topic_members(const Database& db, const std::string& name);
/// topic_members of each name, in one pass over the hypernym paths.
std::vector<std::vector<std::string>> topic_members(const Database& db, const std::vector<std::string>& names);

/// Every topic name with the domain synsets that carry it.
std::vector<std::string> all_topic_names(const Database& db);

}  // namespace ntks::corpora::wordnet
