// Topic labels of WordNet synsets (the rule is in wordnet.h) and topic names.

#include <algorithm>
#include <set>

#include "ntks/corpora/wordnet.h"

namespace ntks::corpora::wordnet {
namespace {

void add_unique(std::vector<size_t>& v, size_t x) {
  if (std::find(v.begin(), v.end(), x) == v.end()) v.push_back(x);
}

// Links to broader synsets: hypernyms, instance hypernyms and, for adjective
// satellites, their head adjective.
std::vector<size_t> parents(const Database& db, size_t i) {
  std::vector<size_t> out;
  const Synset& s = db.synsets()[i];
  for (const Pointer& p : s.pointers)
    if (p.symbol == "@" || p.symbol == "@i" || (s.ss_type == 's' && p.symbol == "&"))
      add_unique(out, static_cast<size_t>(db.find(p.pos, p.offset)));
  return out;
}

// Domain synsets: targets of ";c" and sources of "-c". direct[i]: own domains.
struct Domains {
  std::vector<std::vector<size_t>> direct;
  std::vector<bool> is_domain;
};

Domains domains_of(const Database& db) {
  const auto& ss = db.synsets();
  Domains d{std::vector<std::vector<size_t>>(ss.size()), std::vector<bool>(ss.size(), false)};
  for (size_t i = 0; i < ss.size(); ++i) {
    for (const Pointer& p : ss[i].pointers) {
      const auto j = static_cast<size_t>(db.find(p.pos, p.offset));
      if (p.symbol == ";c") {
        add_unique(d.direct[i], j);
        d.is_domain[j] = true;
      } else if (p.symbol == "-c") {
        d.is_domain[i] = true;
      }
    }
  }
  // The inverse pointers, after the member's own ones so pointer order leads.
  for (size_t i = 0; i < ss.size(); ++i)
    for (const Pointer& p : ss[i].pointers)
      if (p.symbol == "-c") add_unique(d.direct[static_cast<size_t>(db.find(p.pos, p.offset))], i);
  return d;
}

std::vector<size_t> own(const Domains& d, size_t i) {
  if (!d.direct[i].empty()) return d.direct[i];
  if (d.is_domain[i]) return {i};
  return {};
}

}  // namespace

std::vector<std::vector<size_t>> label_synsets(const Database& db) {
  const Domains d = domains_of(db);
  const size_t n = db.synsets().size();
  std::vector<std::vector<size_t>> labels(n);
  for (size_t i = 0; i < n; ++i) {
    labels[i] = own(d, i);
    std::vector<size_t> front{i};
    for (int hop = 0; hop < kLabelHops && labels[i].empty() && !front.empty(); ++hop) {
      std::vector<size_t> next;
      for (size_t f : front)
        for (size_t p : parents(db, f)) add_unique(next, p);
      for (size_t a : next)
        for (size_t x : own(d, a)) add_unique(labels[i], x);
      front = std::move(next);
    }
  }
  return labels;
}

std::string topic_name(const Synset& domain) { return lower(domain.words.front()); }

namespace {
// The paper's domains, each as the WordNet fields that make it up (sub-fields
// come with them through the hypernym rule of topic_members).
const std::vector<std::pair<std::string, std::vector<std::string>>>& named_table() {
  static const std::vector<std::pair<std::string, std::vector<std::string>>> table = {
      {"medicine", {"medicine", "medical_science"}},
      {"finance", {"finance", "banking", "economics", "accounting", "accountancy", "investment", "stock_exchange",
                   "tax"}},
      {"law", {"law", "jurisprudence", "legal_code", "crime", "tort"}},
      {"psychology", {"psychology", "psychiatry", "psychoanalysis", "psychotherapy"}},
  };
  return table;
}
}  // namespace

std::vector<std::string> topic_roots(const std::string& name) {
  const std::string key = lower(name);
  for (const auto& [n, roots] : named_table())
    if (n == key) return roots;
  std::string root = key;
  std::replace(root.begin(), root.end(), ' ', '_');
  return {root};
}

std::vector<std::string> named_topics() {
  std::vector<std::string> out;
  for (const auto& entry : named_table()) out.push_back(entry.first);
  return out;
}

std::vector<std::vector<std::string>> topic_members(const Database& db, const std::vector<std::string>& names) {
  const auto& ss = db.synsets();
  const Domains d = domains_of(db);
  // Per domain synset: the lower-cased lemmas of itself and of every synset on
  // any of its hypernym paths (depth-first, each synset once).
  std::vector<std::pair<std::string, std::set<std::string>>> domains;
  for (size_t i = 0; i < ss.size(); ++i) {
    if (!d.is_domain[i]) continue;
    std::set<std::string> lemmas;
    std::vector<size_t> stack{i};
    std::set<size_t> seen{i};
    while (!stack.empty()) {
      const size_t x = stack.back();
      stack.pop_back();
      for (const std::string& w : ss[x].words) lemmas.insert(lower(w));
      for (size_t p : parents(db, x))
        if (seen.insert(p).second) stack.push_back(p);
    }
    domains.emplace_back(topic_name(ss[i]), std::move(lemmas));
  }
  std::vector<std::vector<std::string>> out;
  for (const std::string& name : names) {
    std::set<std::string> members;
    for (const std::string& root : topic_roots(name))
      for (const auto& [topic, lemmas] : domains)
        if (lemmas.count(root)) members.insert(topic);
    out.emplace_back(members.begin(), members.end());
  }
  return out;
}

std::vector<std::string> topic_members(const Database& db, const std::string& name) {
  return topic_members(db, std::vector<std::string>{name}).front();
}

std::vector<std::string> all_topic_names(const Database& db) {
  const Domains d = domains_of(db);
  std::set<std::string> names;
  for (size_t i = 0; i < d.is_domain.size(); ++i)
    if (d.is_domain[i]) names.insert(topic_name(db.synsets()[i]));
  return {names.begin(), names.end()};
}

}  // namespace ntks::corpora::wordnet
