// The demo's domain set and candidate pool drawn from WordNet, their labels
// file, and the on-topic share of a selection (rules in wordnet_demo.h).

#include "ntks/corpora/wordnet_demo.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "ntks/select/shuffle.h"
#include "ntks/util/error.h"
#include "ntks/util/files.h"
#include "ntks/util/strings.h"

namespace ntks::corpora::wordnet {
namespace {

enum class Class { on, off, mixed, none };

// Topic ids per synset label, so classifying against many topics is cheap.
struct TopicIds {
  std::vector<std::string> names;
  std::map<std::string, size_t> id;
  std::vector<std::vector<size_t>> of_synset;  ///< distinct topic ids of each synset's label
};

TopicIds topic_ids(const Database& db, const std::vector<std::vector<size_t>>& labels) {
  TopicIds t;
  t.of_synset.resize(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) {
    for (size_t d : labels[i]) {
      const std::string name = topic_name(db.synsets()[d]);
      auto [it, added] = t.id.emplace(name, t.names.size());
      if (added) t.names.push_back(name);
      if (std::find(t.of_synset[i].begin(), t.of_synset[i].end(), it->second) == t.of_synset[i].end())
        t.of_synset[i].push_back(it->second);
    }
  }
  return t;
}

Class classify(const std::vector<size_t>& topics, const std::vector<bool>& member) {
  size_t in = 0;
  for (size_t t : topics) in += member[t] ? 1 : 0;
  if (in == 0) return Class::off;
  return in == topics.size() ? Class::on : Class::mixed;
}

std::vector<bool> member_mask(const TopicIds& t, const std::vector<std::string>& members) {
  std::vector<bool> mask(t.names.size(), false);
  for (const std::string& m : members) {
    auto it = t.id.find(m);
    if (it != t.id.end()) mask[it->second] = true;
  }
  return mask;
}

/// Makes every test sample a multiple-choice question (wordnet_demo.h): up to
/// kDistractors distinct outputs of the same kind, unlike its own, drawn
/// from the other test samples, then from the pool; the answer's position
/// drawn last.
void add_options(std::vector<Sample>& test, const std::vector<Sample>& pool, uint64_t seed) {
  select::SplitMix64 g(seed);
  for (size_t i = 0; i < test.size(); ++i) {
    Sample& t = test[i];
    std::vector<std::string> picked;
    auto draw = [&](const std::vector<Sample>& from, const Sample* self) {
      std::set<std::string> seen(picked.begin(), picked.end());
      seen.insert(t.output);
      std::vector<const std::string*> candidates;
      for (const Sample& c : from)
        if (&c != self && c.kind == t.kind && seen.insert(c.output).second) candidates.push_back(&c.output);
      // A partial Fisher-Yates: the first draws of a shuffle of the candidates.
      for (size_t k = 0; k < candidates.size() && picked.size() < kDistractors; ++k) {
        std::swap(candidates[k], candidates[k + g.below(candidates.size() - k)]);
        picked.push_back(*candidates[k]);
      }
    };
    draw(test, &t);
    if (picked.size() < kDistractors) draw(pool, nullptr);
    if (picked.empty()) continue;  // no other output of its kind: no question
    t.answer = g.below(picked.size() + 1);
    t.options = std::move(picked);
    t.options.insert(t.options.begin() + static_cast<long>(t.answer), t.output);
  }
}

}  // namespace

DemoSet draw_demo_set(const Database& db, const DemoOptions& opt) {
  if (opt.domain_size < 1) throw UsageError("--domain-size must be at least 1");
  if (opt.pool_size < 1) throw UsageError("--pool-size must be at least 1");
  if (opt.on_topic_share > 1) throw UsageError(fmt::format("--on-topic-share {} is over 1", opt.on_topic_share));
  DemoSet set;
  set.members = topic_members(db, opt.topic);
  if (set.members.empty()) {
    std::vector<std::string> names = all_topic_names(db);
    for (const std::string& n : named_topics()) names.push_back(n);
    throw UsageError(fmt::format("--domain '{}': no WordNet topic domain is named so or lies under a synset of that "
                                 "name (nearest: '{}'); --list-topics lists them",
                                 opt.topic, nearest(opt.topic, names)));
  }
  const auto labels = label_synsets(db);
  const TopicIds ids = topic_ids(db, labels);
  const std::vector<bool> mask = member_mask(ids, set.members);

  std::vector<size_t> on, off;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (!has_sample(db.synsets()[i])) continue;
    switch (classify(ids.of_synset[i], mask)) {
      case Class::on: on.push_back(i); break;
      case Class::off: off.push_back(i); break;
      default: ++set.mixed_synsets; break;
    }
  }
  set.on_topic_synsets = on.size();
  set.off_topic_synsets = off.size();
  set.natural_share = static_cast<double>(on.size()) / static_cast<double>(on.size() + off.size());
  const double share = opt.on_topic_share < 0 ? set.natural_share : opt.on_topic_share;
  const auto n_on = static_cast<size_t>(std::llround(share * static_cast<double>(opt.pool_size)));
  if (on.size() < opt.domain_size + n_on + opt.test_size)
    throw UsageError(fmt::format("--domain '{}' has {} on-topic synsets, too few for --domain-size {} plus {} "
                                 "on-topic pool samples ({} of --pool-size {}) plus --test-size {} (needs {}); "
                                 "lower them",
                                 opt.topic, on.size(), opt.domain_size, n_on, share, opt.pool_size, opt.test_size,
                                 opt.domain_size + n_on + opt.test_size));
  if (off.size() < opt.pool_size - n_on)
    throw UsageError(fmt::format("only {} off-topic synsets for {} off-topic pool samples; lower --pool-size",
                                 off.size(), opt.pool_size - n_on));

  // Independent streams for the three shuffles and the sample kinds.
  select::SplitMix64 g(opt.seed);
  const uint64_t seed_on = g.next(), seed_off = g.next(), seed_pool = g.next(), seed_kind = g.next();
  const uint64_t seed_options = g.next();  // drawn after the others, which it leaves as they were
  select::portable_shuffle(on, seed_on);
  select::portable_shuffle(off, seed_off);
  std::vector<size_t> pool(on.begin() + static_cast<long>(opt.domain_size),
                           on.begin() + static_cast<long>(opt.domain_size + n_on));
  pool.insert(pool.end(), off.begin(), off.begin() + static_cast<long>(opt.pool_size - n_on));
  select::portable_shuffle(pool, seed_pool);
  // The test set from what the domain set and pool left, so that they stay as they were without one.
  const std::vector<size_t> test(on.begin() + static_cast<long>(opt.domain_size + n_on),
                                 on.begin() + static_cast<long>(opt.domain_size + n_on + opt.test_size));
  on.resize(opt.domain_size);

  auto samples = [&](const std::vector<size_t>& synsets) {
    std::vector<Sample> out(synsets.size());
    for (size_t k = 0; k < synsets.size(); ++k)
      NTKS_CHECK(make_sample(db, synsets[k], labels, seed_kind, out[k]), "synset {} has no sample", synsets[k]);
    return out;
  };
  set.domain = samples(on);
  set.pool = samples(pool);
  set.test = samples(test);
  add_options(set.test, set.pool, seed_options);
  set.pool_on_topic = n_on;
  return set;
}

std::string labels_json(const DemoSet& set, const DemoOptions& opt, const std::string& wordnet_dir) {
  std::map<std::string, size_t> pool_topics;
  for (const Sample& s : set.pool) ++pool_topics[s.topics.empty() ? std::string("general") : s.topics.front()];
  nlohmann::ordered_json j;
  j["topic"] = opt.topic;
  j["members"] = set.members;
  j["seed"] = opt.seed;
  j["label_hops"] = kLabelHops;
  j["domain_size"] = set.domain.size();
  j["pool_size"] = set.pool.size();
  j["test_size"] = set.test.size();
  j["pool_on_topic"] = set.pool_on_topic;
  j["pool_base_rate"] = static_cast<double>(set.pool_on_topic) / static_cast<double>(set.pool.size());
  if (opt.on_topic_share < 0) {
    j["on_topic_share"] = "natural";
  } else {
    j["on_topic_share"] = opt.on_topic_share;
  }
  j["natural_share"] = set.natural_share;
  j["eligible_synsets"] = {{"on_topic", set.on_topic_synsets},
                           {"off_topic", set.off_topic_synsets},
                           {"mixed_left_out", set.mixed_synsets}};
  j["pool_topics"] = pool_topics;
  j["wordnet"] = wordnet_dir;
  return j.dump(2) + "\n";
}

std::vector<std::pair<std::string, size_t>> topic_sizes(const Database& db, const std::vector<std::string>& names) {
  const auto labels = label_synsets(db);
  const TopicIds ids = topic_ids(db, labels);
  const auto members = topic_members(db, names);
  std::vector<size_t> labelled;
  for (size_t i = 0; i < labels.size(); ++i)
    if (!ids.of_synset[i].empty() && has_sample(db.synsets()[i])) labelled.push_back(i);
  std::vector<std::pair<std::string, size_t>> out;
  for (size_t k = 0; k < names.size(); ++k) {
    const std::vector<bool> mask = member_mask(ids, members[k]);
    size_t n = 0;
    for (size_t i : labelled) n += classify(ids.of_synset[i], mask) == Class::on ? 1 : 0;
    out.emplace_back(names[k], n);
  }
  return out;
}

TopicShare count_on_topic(const std::vector<std::string>& selected, const std::unordered_map<std::string, bool>& on_topic,
                          double base_rate, const std::string& where, const std::vector<size_t>& lines) {
  TopicShare r;
  r.base_rate = base_rate;
  std::set<std::string> seen;
  for (size_t k = 0; k < selected.size(); ++k) {
    const std::string place =
        k < lines.size() ? fmt::format("{}:{}", where, lines[k]) : fmt::format("{}: id {}", where, k + 1);
    auto it = on_topic.find(selected[k]);
    if (it == on_topic.end()) throw InputError(fmt::format("{}: '{}' is not in the pool", place, selected[k]));
    if (!seen.insert(selected[k]).second)
      throw InputError(fmt::format("{}: '{}' is selected twice", place, selected[k]));
    ++r.selected;
    r.on_topic += it->second ? 1 : 0;
  }
  return r;
}

std::string format_share(const TopicShare& s) {
  std::string out = fmt::format("on-topic: {} of {} selected ({:.1f}%) vs pool base rate {:.1f}%", s.on_topic,
                                s.selected, 100 * s.share(), 100 * s.base_rate);
  if (!s.examples.empty()) out += "\nthe best selected samples:";
  for (const std::string& e : s.examples) out += "\n  " + e;
  return out;
}

namespace {

// At most `n` bytes of `s`, cut before a UTF-8 continuation byte, with "..."
// when shortened.
std::string shorten(const std::string& s, size_t n) {
  if (s.size() <= n) return s;
  size_t cut = n;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut) + "...";
}

constexpr size_t kExamples = 3;

}  // namespace

TopicShare on_topic_report(const std::string& demo_dir, const std::string& ids_file) {
  const std::string labels_path = demo_dir + "/labels.json", pool_path = demo_dir + "/pool.jsonl";
  nlohmann::json labels;
  try {
    labels = nlohmann::json::parse(read_file(labels_path));
    labels.at("members").get<std::vector<std::string>>();
    labels.at("pool_base_rate").get<double>();
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("{}: not a demo-data labels file ({})", labels_path, e.what()));
  }
  const auto members_list = labels["members"].get<std::vector<std::string>>();
  const std::set<std::string> members(members_list.begin(), members_list.end());

  std::unordered_map<std::string, bool> on_topic;
  std::unordered_map<std::string, std::string> shown;  // id -> example line
  std::istringstream pool(read_file(pool_path));
  size_t lineno = 0;
  for (std::string line; std::getline(pool, line);) {
    ++lineno;
    try {
      const auto j = nlohmann::json::parse(line);
      const auto topics = j.at("topics").get<std::vector<std::string>>();
      bool all_in = !topics.empty();
      for (const std::string& t : topics) all_in = all_in && members.count(t) > 0;
      const std::string id = j.at("id").get<std::string>();
      on_topic[id] = all_in;
      std::string prompt = j.value("instruction", "");
      if (!j.value("input", "").empty()) prompt += " " + j.value("input", "");
      shown[id] = fmt::format("[{}] {} -> {}", j.value("topic", "?"), shorten(prompt, 100),
                              shorten(j.value("output", ""), 50));
    } catch (const nlohmann::json::exception& e) {
      throw InputError(fmt::format("{}:{}: not a demo-data sample ({})", pool_path, lineno, e.what()));
    }
  }
  std::vector<std::string> selected;
  std::vector<size_t> lines;
  std::istringstream ids(read_file(ids_file));
  lineno = 0;
  for (std::string line; std::getline(ids, line);) {
    ++lineno;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty()) continue;
    selected.push_back(line);
    lines.push_back(lineno);
  }
  TopicShare share = count_on_topic(selected, on_topic, labels["pool_base_rate"].get<double>(), ids_file, lines);
  for (size_t i = 0; i < selected.size() && i < kExamples; ++i)
    share.examples.push_back(fmt::format("{}. {}", i + 1, shown.at(selected[i])));
  return share;
}

}  // namespace ntks::corpora::wordnet
