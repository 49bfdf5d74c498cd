// Instruction samples made from one WordNet synset (kinds listed in wordnet_demo.h).

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "ntks/corpora/wordnet_demo.h"
#include "ntks/select/shuffle.h"
#include "ntks/util/strings.h"

namespace ntks::corpora::wordnet {
namespace {

enum class Kind { define, example, reverse, synonyms, hypernym, antonym };

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::define: return "define";
    case Kind::example: return "example";
    case Kind::reverse: return "reverse";
    case Kind::synonyms: return "synonyms";
    case Kind::hypernym: return "hypernym";
    case Kind::antonym: return "antonym";
  }
  return "?";
}

const Pointer* first_pointer(const Synset& s, std::initializer_list<const char*> symbols, bool lexical) {
  for (const Pointer& p : s.pointers)
    for (const char* sym : symbols)
      if (p.symbol == sym && (!lexical || (p.source > 0 && p.target > 0))) return &p;
  return nullptr;
}

std::vector<std::string> display_words(const Synset& s) {
  std::vector<std::string> out;
  for (const std::string& w : s.words) out.push_back(display_word(w));
  return out;
}

}  // namespace

namespace {

std::vector<Kind> kinds_of(const Synset& s) {
  const bool has_def = !s.definition.empty();
  std::vector<std::string> distinct = display_words(s);
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  std::vector<Kind> kinds;
  if (has_def) kinds.push_back(Kind::define);
  if (!s.examples.empty()) kinds.push_back(Kind::example);
  if (has_def) kinds.push_back(Kind::reverse);
  if (has_def && distinct.size() >= 2) kinds.push_back(Kind::synonyms);
  if (first_pointer(s, {"@", "@i"}, false)) kinds.push_back(Kind::hypernym);
  if (first_pointer(s, {"!"}, true)) kinds.push_back(Kind::antonym);
  return kinds;
}

}  // namespace

bool has_sample(const Synset& s) { return !kinds_of(s).empty(); }

bool make_sample(const Database& db, size_t index, const std::vector<std::vector<size_t>>& labels, uint64_t seed,
                 Sample& out) {
  const Synset& s = db.synsets()[index];
  const bool has_def = !s.definition.empty();
  const Pointer* hyper = first_pointer(s, {"@", "@i"}, false);
  const Pointer* anto = first_pointer(s, {"!"}, true);
  const std::vector<Kind> kinds = kinds_of(s);
  if (kinds.empty()) return false;

  // One stream per (seed, synset): a synset's sample does not depend on which
  // other synsets were drawn, or in what order.
  select::SplitMix64 g(seed ^ (synset_key(s.pos, s.offset) * 0x9E3779B97F4A7C15ULL));
  const Kind kind = kinds[g.below(kinds.size())];
  const std::vector<std::string> words = display_words(s);
  const std::string& w = words[g.below(words.size())];
  const char* pos = pos_name(s.pos);

  Sample r;
  r.synset = index;
  r.id = fmt::format("wn-{}{:08d}-{}", s.pos, s.offset, kind_name(kind));
  r.kind = kind_name(kind);
  switch (kind) {
    case Kind::define:
      r.instruction = fmt::format("What does the {} '{}' mean?", pos, w);
      r.output = fmt::format("'{}' ({}) means: {}", w, pos, sentence(s.definition));
      break;
    case Kind::example: {
      // The first example that uses one of the lemmas, with that lemma.
      std::string word = words.front(), example = s.examples.front();
      bool found = false;
      for (const std::string& ex : s.examples) {
        for (const std::string& lemma : words)
          if (lower(ex).find(lower(lemma)) != std::string::npos) {
            word = lemma, example = ex, found = true;
            break;
          }
        if (found) break;
      }
      r.instruction = fmt::format("Give an example sentence that uses the {} '{}'.", pos, word);
      if (has_def) r.input = fmt::format("Sense: {}", s.definition);
      r.output = example;
      break;
    }
    case Kind::reverse: {
      r.instruction = fmt::format("Which {} matches this definition?", pos);
      r.input = s.definition;
      std::vector<std::string> others(words.begin() + 1, words.end());
      r.output = others.empty() ? fmt::format("'{}'", words.front())
                                : fmt::format("'{}' (also: {})", words.front(), join(others, ", "));
      break;
    }
    case Kind::synonyms: {
      std::vector<std::string> others;
      for (const std::string& x : words)
        if (x != w) others.push_back(x);
      r.instruction = fmt::format("Give synonyms of the {} '{}' in the sense: {}", pos, w, sentence(s.definition));
      r.output = join(others, ", ");
      break;
    }
    case Kind::hypernym: {
      const Synset& h = db.synsets()[static_cast<size_t>(db.find(hyper->pos, hyper->offset))];
      const std::string hw = display_word(h.words.front());
      const bool instance = hyper->symbol == "@i";
      const bool verb = s.pos == 'v';
      r.instruction = instance ? fmt::format("What is '{}' an instance of?", w)
                      : verb   ? fmt::format("'{}' is a way of doing what?", w)
                               : fmt::format("What is '{}' a kind of?", w);
      const std::string relation = instance ? "an instance of" : verb ? "a way to" : "a kind of";
      r.output = h.definition.empty() ? fmt::format("'{}' is {} '{}'.", w, relation, hw)
                                      : fmt::format("'{}' is {} '{}': {}", w, relation, hw, sentence(h.definition));
      break;
    }
    case Kind::antonym: {
      const Synset& a = db.synsets()[static_cast<size_t>(db.find(anto->pos, anto->offset))];
      const std::string from = words[static_cast<size_t>(anto->source - 1)];
      const std::string to = display_word(a.words[static_cast<size_t>(anto->target - 1)]);
      r.instruction = fmt::format("What is the opposite of the {} '{}'?", pos, from);
      r.output = a.definition.empty() ? fmt::format("The opposite of '{}' is '{}'.", from, to)
                                      : fmt::format("The opposite of '{}' is '{}': {}", from, to, sentence(a.definition));
      break;
    }
  }
  for (size_t d : labels[index]) {
    const std::string t = topic_name(db.synsets()[d]);
    if (std::find(r.topics.begin(), r.topics.end(), t) == r.topics.end()) r.topics.push_back(t);
  }
  out = std::move(r);
  return true;
}

std::string sample_json_line(const Sample& s) {
  nlohmann::ordered_json j;
  j["id"] = s.id;
  j["instruction"] = s.instruction;
  j["input"] = s.input;
  j["output"] = s.output;
  j["topic"] = s.topics.empty() ? std::string("general") : s.topics.front();
  j["topics"] = s.topics;
  if (!s.options.empty()) {
    j["options"] = s.options;
    j["answer"] = s.answer;
  }
  return j.dump() + "\n";
}

}  // namespace ntks::corpora::wordnet
