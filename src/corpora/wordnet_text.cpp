// WordNet synsets as short texts (forms in wordnet_text.h).

#include "ntks/corpora/wordnet_text.h"

#include <fmt/format.h>

#include <algorithm>

#include "ntks/select/shuffle.h"
#include "ntks/util/strings.h"

namespace ntks::corpora::wordnet {
namespace {

std::string quoted_examples(const std::vector<std::string>& examples) {
  std::vector<std::string> q;
  for (const std::string& e : examples) q.push_back("\"" + e + "\"");
  return join(q, " ");
}

// "a kind of X", "a way to X", "an instance of X" from the first hypernym; empty without one.
std::string broader(const Database& db, const Synset& s) {
  for (const Pointer& p : s.pointers) {
    if (p.symbol != "@" && p.symbol != "@i") continue;
    const Synset& h = db.synsets()[static_cast<size_t>(db.find(p.pos, p.offset))];
    const std::string w = display_word(h.words.front());
    if (p.symbol == "@i") return "an instance of " + w;
    return s.pos == 'v' ? "a way to " + w : "a kind of " + w;
  }
  return {};
}

}  // namespace

std::string synset_text(const Database& db, size_t index, uint64_t seed) {
  const Synset& s = db.synsets()[index];
  if (s.definition.empty() && s.examples.empty()) return {};
  std::vector<std::string> words;
  for (const std::string& w : s.words) {
    const std::string d = display_word(w);
    if (std::find(words.begin(), words.end(), d) == words.end()) words.push_back(d);
  }
  const std::vector<std::string> others(words.begin() + 1, words.end());
  const std::string& w = words.front();
  const std::string def = s.definition.empty() ? std::string() : sentence(s.definition);
  const std::string examples = quoted_examples(s.examples);

  select::SplitMix64 g(seed ^ (synset_key(s.pos, s.offset) * 0xD6E8FEB86659FD93ULL));
  const uint64_t form = def.empty() ? 0 : g.below(s.examples.empty() ? 3 : 4);
  std::string text;
  switch (form) {
    case 0:  // physician, doctor: a licensed medical practitioner. "..."
      text = join(words, ", ") + ":";
      if (!def.empty()) text += " " + def;
      if (!examples.empty()) text += " " + examples;
      break;
    case 1: {  // doctor (noun): ... For example: "...". Also: ... It is a kind of ...
      text = fmt::format("{} ({}): {}", w, pos_name(s.pos), def);
      if (!s.examples.empty()) text += fmt::format(" For example: \"{}\"", sentence(s.examples.front()));
      if (!others.empty()) text += fmt::format(" Also: {}.", join(others, ", "));
      if (const std::string b = broader(db, s); !b.empty()) text += fmt::format(" It is {}.", b);
      break;
    }
    case 2:  // To sue is to institute legal proceedings against. / The word "x" means ...
      text = s.pos == 'v' ? fmt::format("To {} is to {}", w, def) : fmt::format("The word \"{}\" means {}", w, def);
      if (!others.empty()) text += fmt::format(" Other words for it: {}.", join(others, ", "));
      if (!examples.empty()) text += " " + examples;
      break;
    default: {  // "example" Here "x" means: ... (x: the first word the example uses)
      std::string used = w;
      for (const std::string& x : words)
        if (lower(s.examples.front()).find(lower(x)) != std::string::npos) {
          used = x;
          break;
        }
      text = fmt::format("{} Here \"{}\" means: {}", examples, used, def);
      break;
    }
  }
  return text;
}

}  // namespace ntks::corpora::wordnet
