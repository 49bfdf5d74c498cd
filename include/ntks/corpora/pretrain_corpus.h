#pragma once
// The pretraining corpus of `ntk-select pretrain-data`: English text from
// Debian packages, one document a JSONL line {"id", "source", "text"}.
//
// Sources, read in this order:
//   wordnet   one text per synset (wordnet_text.h)          wordnet-base
//   gcide     GCIDE entries without WordNet's senses         dict-gcide
//   jargon    the Jargon File                                dict-jargon
//   foldoc    the Free On-line Dictionary of Computing       dict-foldoc
//   devil     Ambrose Bierce's The Devil's Dictionary        dict-devil
//   fortunes  fortune cookies                                fortunes, fortunes-min
// Exact duplicate texts are kept once (the first, in that order).
//
// Exclusion: the synsets behind every excluded sample give no WordNet
// document, and a document of any source that contains (verbatim_filter.h)
// an excluded sample's text field or a gloss or example of an excluded
// synset is dropped. Then all documents are shuffled (select/shuffle.h) and,
// under a byte cap, the longest prefix that fits is kept. The same inputs
// and options give the same documents in the same order.

#include <cstdint>
#include <string>
#include <vector>

#include "ntks/corpora/exclusion.h"

namespace ntks::corpora {

struct Document {
  std::string id;      ///< "wordnet:n06043075", "gcide:Lifeless", "fortunes:zippy:12"
  std::string source;  ///< one of pretrain_sources()
  std::string text;
};

/// The source names, in reading order.
const std::vector<std::string>& pretrain_sources();

struct PretrainOptions {
  std::vector<std::string> sources = pretrain_sources();  ///< which to read (any order; read in pretrain_sources() order)
  std::string wordnet_dir = "/usr/share/wordnet";         ///< WordNet 3.0 data.* files
  std::string dictd_dir = "/usr/share/dictd";             ///< NAME.index and NAME.dict.dz
  std::string fortunes_dir = "/usr/share/games/fortunes";
  std::vector<std::string> exclude;  ///< demo-data folders or JSONL files (exclusion.h)
  uint64_t max_bytes = 0;            ///< cap on the text bytes kept; 0: no cap
  uint64_t seed = 1;                 ///< WordNet text forms and the shuffle
};

/// What became of one source's documents.
struct SourceCount {
  std::string source;
  size_t read = 0;        ///< documents made from the source (entries, synsets, records with text)
  size_t empty = 0;       ///< entries with no text left (GCIDE: WordNet's senses only)
  size_t invalid = 0;     ///< entries left out as not UTF-8 (named in PretrainCorpus::skipped)
  size_t excluded = 0;    ///< dropped by the exclusion
  size_t duplicate = 0;   ///< same text as an earlier document
  size_t capped = 0;      ///< over max_bytes
  size_t documents = 0;   ///< written
  uint64_t bytes = 0;     ///< text bytes written
};

struct PretrainCorpus {
  std::vector<Document> documents;  ///< shuffled, capped: the file's lines in order
  std::vector<SourceCount> counts;  ///< the sources read, in reading order
  Excluded excluded;                ///< what --exclude named
  size_t excluded_strings = 0;      ///< strings the documents were checked against
  std::vector<std::string> skipped; ///< bad entries left out, one message each
};

/// Reads the sources and applies the exclusion, shuffle and cap (see above).
/// InputError for missing or corrupt files (naming them and the Debian
/// package), an excluded synset WordNet does not hold, and a corpus left
/// without documents; UsageError for an unknown source.
PretrainCorpus build_pretrain_corpus(const PretrainOptions& opt);

/// One JSONL line with "\n": {"id": ..., "source": ..., "text": ...}.
std::string document_json_line(const Document& d);

}  // namespace ntks::corpora
