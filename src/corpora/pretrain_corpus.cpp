// The pretraining corpus: sources, exclusion, duplicates, shuffle and cap
// (rules in pretrain_corpus.h).

#include "ntks/corpora/pretrain_corpus.h"

#include <xxhash.h>

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "ntks/corpora/dictd.h"
#include "ntks/corpora/fortunes.h"
#include "ntks/corpora/gcide_text.h"
#include "ntks/corpora/verbatim_filter.h"
#include "ntks/corpora/wordnet_text.h"
#include "ntks/select/shuffle.h"
#include "ntks/util/error.h"
#include "ntks/util/strings.h"

namespace ntks::corpora {
namespace {

struct DictdSource {
  const char* name;
  const char* package;
};
constexpr DictdSource kDictd[] = {
    {"gcide", "dict-gcide"}, {"jargon", "dict-jargon"}, {"foldoc", "dict-foldoc"}, {"devil", "dict-devil"}};

// Takes one source's documents through the exclusion and the duplicate check.
class Collector {
 public:
  Collector(const VerbatimFilter& filter, PretrainCorpus& corpus) : filter_(filter), corpus_(corpus) {}

  SourceCount& start(const std::string& source) {
    corpus_.counts.push_back(SourceCount{});
    corpus_.counts.back().source = source;
    return corpus_.counts.back();
  }

  void add(std::string id, std::string text) {
    SourceCount& c = corpus_.counts.back();
    if (text.empty()) {
      ++c.empty;
      return;
    }
    ++c.read;
    if (filter_.find_in(text) >= 0) {
      ++c.excluded;
      return;
    }
    // By 64-bit hash: among ~10^6 texts a false "duplicate" has odds ~10^-8.
    if (!seen_.insert(XXH3_64bits(text.data(), text.size())).second) {
      ++c.duplicate;
      return;
    }
    corpus_.documents.push_back(Document{std::move(id), c.source, std::move(text)});
  }

 private:
  const VerbatimFilter& filter_;
  PretrainCorpus& corpus_;
  std::unordered_set<uint64_t> seen_;
};

void check_sources(const std::vector<std::string>& sources) {
  if (sources.empty()) throw UsageError("--sources is empty; name at least one of " + join(pretrain_sources(), ", "));
  for (const std::string& s : sources)
    if (std::find(pretrain_sources().begin(), pretrain_sources().end(), s) == pretrain_sources().end())
      throw UsageError(fmt::format("--sources: unknown source '{}' (nearest: '{}'); the sources are {}", s,
                                   nearest(s, pretrain_sources()), join(pretrain_sources(), ", ")));
}

// "gcide:Lifeless", and "gcide:Lifeless#2" for a later entry of that headword.
std::string unique_id(const std::string& id, std::unordered_set<std::string>& ids) {
  std::string out = id;
  for (int k = 2; !ids.insert(out).second; ++k) out = fmt::format("{}#{}", id, k);
  return out;
}

// Excluded synsets as database indices; their glosses and examples go into the filter.
std::vector<bool> excluded_synsets(const wordnet::Database& db, const Excluded& ex, const std::string& dir,
                                   VerbatimFilter& filter) {
  std::vector<bool> out(db.synsets().size(), false);
  for (const ExcludedSynset& e : ex.synsets) {
    const long i = db.find(e.pos, e.offset);
    if (i < 0)
      throw InputError(fmt::format("{}: the sample's id names WordNet synset {}{:08d}, which {} does not hold "
                                   "(made from another WordNet? give its folder with --wordnet)",
                                   e.where, e.pos, e.offset, dir));
    out[static_cast<size_t>(i)] = true;
    const wordnet::Synset& s = db.synsets()[static_cast<size_t>(i)];
    filter.add(s.definition);
    for (const std::string& x : s.examples) filter.add(x);
  }
  return out;
}

}  // namespace

const std::vector<std::string>& pretrain_sources() {
  static const std::vector<std::string> names = {"wordnet", "gcide", "jargon", "foldoc", "devil", "fortunes"};
  return names;
}

PretrainCorpus build_pretrain_corpus(const PretrainOptions& opt) {
  check_sources(opt.sources);
  auto wanted = [&](const std::string& s) {
    return std::find(opt.sources.begin(), opt.sources.end(), s) != opt.sources.end();
  };
  PretrainCorpus corpus;
  corpus.excluded = read_excluded(opt.exclude);
  VerbatimFilter filter;
  for (const std::string& f : corpus.excluded.fields) filter.add(f);

  select::SplitMix64 g(opt.seed);
  const uint64_t seed_text = g.next(), seed_shuffle = g.next();
  std::vector<bool> skip_synset;
  wordnet::Database db;
  if (wanted("wordnet") || !corpus.excluded.synsets.empty()) {
    db = wordnet::Database::load(opt.wordnet_dir);
    skip_synset = excluded_synsets(db, corpus.excluded, opt.wordnet_dir, filter);
  }
  corpus.excluded_strings = filter.size();

  Collector collect(filter, corpus);
  if (wanted("wordnet")) {
    SourceCount& c = collect.start("wordnet");
    for (size_t i = 0; i < db.synsets().size(); ++i) {
      const wordnet::Synset& s = db.synsets()[i];
      if (skip_synset[i]) {
        ++c.read, ++c.excluded;
        continue;
      }
      collect.add(fmt::format("wordnet:{}{:08d}", s.pos, s.offset), wordnet::synset_text(db, i, seed_text));
    }
  }
  for (const DictdSource& src : kDictd) {
    if (!wanted(src.name)) continue;
    dictd::Database d = dictd::read(opt.dictd_dir, src.name, src.package);
    SourceCount& c = collect.start(src.name);
    c.invalid = d.skipped.size();
    corpus.skipped.insert(corpus.skipped.end(), d.skipped.begin(), d.skipped.end());
    const bool gcide = std::string(src.name) == "gcide";
    std::unordered_set<std::string> ids;
    for (const dictd::Entry& e : d.entries)
      collect.add(unique_id(fmt::format("{}:{}", src.name, e.headword), ids),
                  gcide ? gcide::entry_text(e.text) : dictd::plain_text(e.text));
  }
  if (wanted("fortunes")) {
    fortunes::Collection f = fortunes::read_dir(opt.fortunes_dir);
    SourceCount& c = collect.start("fortunes");
    c.invalid = f.skipped.size();
    corpus.skipped.insert(corpus.skipped.end(), f.skipped.begin(), f.skipped.end());
    for (fortunes::Record& r : f.records)
      collect.add(fmt::format("fortunes:{}:{}", r.file, r.number), std::move(r.text));
  }

  select::portable_shuffle(corpus.documents, seed_shuffle);
  const size_t made = corpus.documents.size();
  size_t keep = 0;
  for (uint64_t total = 0; keep < made; ++keep) {
    total += corpus.documents[keep].text.size();
    if (opt.max_bytes && total > opt.max_bytes) break;
  }
  for (size_t i = 0; i < made; ++i) {
    const Document& d = corpus.documents[i];
    auto c = std::find_if(corpus.counts.begin(), corpus.counts.end(),
                          [&](const SourceCount& x) { return x.source == d.source; });
    if (i < keep) {
      ++c->documents;
      c->bytes += d.text.size();
    } else {
      ++c->capped;
    }
  }
  if (keep == 0)
    throw InputError(made ? fmt::format("the corpus has no documents: --max-bytes {} is below the size of the first "
                                        "one ({} bytes)",
                                        opt.max_bytes, corpus.documents.front().text.size())
                          : std::string("the corpus has no documents: every document of --sources was excluded, "
                                        "a duplicate or empty"));
  corpus.documents.resize(keep);
  return corpus;
}

std::string document_json_line(const Document& d) {
  nlohmann::ordered_json j;
  j["id"] = d.id;
  j["source"] = d.source;
  j["text"] = d.text;
  return j.dump() + "\n";
}

}  // namespace ntks::corpora
