// What the selection is made of: by candidate file and, where the records
// carry a label (the demo's topic), by label, against the whole pool.

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "ntks/corpora/wordnet_demo.h"
#include "ntks/util/error.h"
#include "ntks/util/strings.h"
#include "sections.h"

namespace ntks::report {
namespace {

namespace fs = std::filesystem;

// Fields that hold a record's label, in the order they are looked for.
const std::vector<std::string> kLabelFields = {"label", "topic", "category"};
// Labels listed one by one; the others share a row.
constexpr size_t kLabelRows = 20;

// The record's label under `field`: a string, or the first string of a list.
std::optional<std::string> label_of(const std::string& line, const std::string& field) {
  try {
    const json j = json::parse(line);
    if (!j.is_object() || !j.contains(field)) return std::nullopt;
    const json& v = j[field];
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number() || v.is_boolean()) return v.dump();
    if (v.is_array() && !v.empty() && v[0].is_string()) return v[0].get<std::string>();
  } catch (const json::exception&) {
  }
  return std::nullopt;
}

std::string percent(double part, double whole) { return whole > 0 ? fmt::format("{:.1f}%", 100 * part / whole) : ""; }

}  // namespace

Corpus open_corpus(const RunData& run) {
  Corpus c;
  if (!run.corpus) {
    c.why = run.corpus.why;
    return c;
  }
  try {
    data::IndexOptions o;
    o.id_field = run.corpus->id_field;
    c.index = std::make_unique<data::CorpusIndex>(data::CorpusIndex::open(run.corpus->files, o));
  } catch (const Error& e) {
    c.why = fmt::format("the candidate corpus cannot be read ({})", e.what());
  }
  return c;
}

Section composition_section(const RunData& run, const Corpus& corpus, const Limits& limits) {
  Section s{"composition", "Composition of the selection", ""};
  if (const std::string why = run.selection_missing(); !why.empty()) {
    s.body = not_available(why);
    return s;
  }
  if (!corpus.index) {
    s.body = not_available(corpus.why);
    return s;
  }
  const data::CorpusIndex& index = *corpus.index;
  const Scored& t = *run.scored;
  std::vector<std::int64_t> selected;  // records, best first
  std::vector<std::pair<std::int64_t, std::int64_t>> by_rank;
  for (size_t i = 0; i < t.records.size(); ++i)
    if (t.rank[i] > 0) by_rank.emplace_back(t.rank[i], t.records[i]);
  std::sort(by_rank.begin(), by_rank.end());
  for (const auto& [r, rec] : by_rank) selected.push_back(rec);
  for (size_t i = 0; i < t.records.size(); ++i)
    if (t.records[i] < 0 || t.records[i] >= index.size() || (t.rank[i] > 0 && index.id(t.records[i]) != t.ids[i])) {
      s.body = not_available(
          fmt::format("the candidate corpus changed since the run: record {} was '{}', {} now", t.records[i], t.ids[i],
                      t.records[i] < index.size() && t.records[i] >= 0
                          ? fmt::format("{} holds '{}'", index.where(t.records[i]), index.id(t.records[i]))
                          : fmt::format("the corpus has {} records", index.size())));
      return s;
    }

  // By file.
  const size_t files = index.files().size();
  std::vector<std::int64_t> pre(files, 0), sel(files, 0);
  if (run.preselected)
    for (std::int64_t r : run.preselected->records)
      if (r >= 0 && r < index.size()) ++pre[index.locate(r).file];
  for (std::int64_t r : selected) ++sel[index.locate(r).file];
  std::vector<std::vector<std::string>> rows;
  for (size_t f = 0; f < files; ++f) {
    const double n = static_cast<double>(index.file_range(f).size());
    rows.push_back({escape(index.files()[f]), number(n), run.preselected ? number(static_cast<double>(pre[f])) : "",
                    number(static_cast<double>(sel[f])),
                    percent(static_cast<double>(sel[f]), static_cast<double>(selected.size())),
                    percent(n, static_cast<double>(index.size())), percent(static_cast<double>(sel[f]), n)});
  }
  s.body += "<h3>By candidate file</h3>\n";
  s.body +=
      table({"file", "records", "pre-selected", "selected", "share of selection", "share of pool", "selection rate"},
            rows, {1, 2, 3, 4, 5, 6});

  // By label: the selected records' lines name the field.
  std::vector<std::string> lines;
  for (std::int64_t r : selected) lines.push_back(index.read(r));
  std::string field;
  for (const std::string& f : kLabelFields) {
    for (const std::string& line : lines)
      if (label_of(line, f)) {
        field = f;
        break;
      }
    if (!field.empty()) break;
  }
  s.body += "<h3>By label</h3>\n";
  if (field.empty()) {
    s.body += not_available(fmt::format("the selected records carry no label field ({})", join(kLabelFields, ", ")));
  } else {
    std::map<std::string, std::int64_t> in_selection, in_pool;
    for (const std::string& line : lines) ++in_selection[label_of(line, field).value_or("(none)")];
    const std::vector<std::int64_t> sample = spread(index.size(), limits.label_sample);
    if (static_cast<std::int64_t>(sample.size()) == index.size()) {
      index.for_each({0, index.size()}, [&](std::int64_t, std::string_view line) {
        ++in_pool[label_of(std::string(line), field).value_or("(none)")];
      });
    } else {
      for (std::int64_t r : sample) ++in_pool[label_of(index.read(r), field).value_or("(none)")];
    }
    std::set<std::string> labels;
    for (const auto& [l, n] : in_selection) labels.insert(l);
    for (const auto& [l, n] : in_pool) labels.insert(l);
    std::vector<std::pair<std::int64_t, std::string>> order;
    for (const std::string& l : labels) order.emplace_back(0, l);
    // Labels by selected count, then by pool share; the long tail in one row.
    const auto pool_n = static_cast<std::int64_t>(sample.size());
    for (auto& [key, l] : order) key = -(in_selection[l] * (pool_n + 1) + in_pool[l]);
    std::sort(order.begin(), order.end());
    rows.clear();
    const double m = static_cast<double>(selected.size()), pool = static_cast<double>(sample.size());
    double rest_a = 0, rest_b = 0;
    for (size_t k = 0; k < order.size(); ++k) {
      const std::string& l = order[k].second;
      const double a = static_cast<double>(in_selection[l]), b = static_cast<double>(in_pool[l]);
      if (k >= kLabelRows && order.size() > kLabelRows + 1) {
        rest_a += a, rest_b += b;
        continue;
      }
      rows.push_back({escape(l), number(a), percent(a, m), percent(b, pool),
                      b > 0 ? fmt::format("{:.2f}", (a / m) / (b / pool)) : ""});
    }
    if (order.size() > kLabelRows + 1)
      rows.push_back({fmt::format("<em>{} other labels</em>", order.size() - kLabelRows), number(rest_a),
                      percent(rest_a, m), percent(rest_b, pool),
                      rest_b > 0 ? fmt::format("{:.2f}", (rest_a / m) / (rest_b / pool)) : ""});
    s.body += fmt::format("<p>Field <code>{}</code> of the records; the pool's shares are {}.</p>\n", escape(field),
                          static_cast<std::int64_t>(sample.size()) == index.size()
                              ? fmt::format("over all {} records", index.size())
                              : fmt::format("over {} records spread evenly over the {}", sample.size(), index.size()));
    s.body += table({"label", "selected", "share of selection", "share of pool", "lift"}, rows, {1, 2, 3, 4});
  }

  // On-topic share, when the corpus is demo-data's pool (labels.json beside it);
  // with other files beside it, the pool's base rate would not be the corpus's.
  for (const std::string& file : index.files()) {
    if (index.files().size() != 1) break;
    const fs::path dir = fs::path(file).parent_path();
    std::error_code ec;
    if (fs::path(file).filename() != "pool.jsonl" || !fs::exists(dir / "labels.json", ec)) continue;
    const std::string ids = run.path("select/selected_ids.txt");
    try {
      const corpora::wordnet::TopicShare share = corpora::wordnet::on_topic_report(dir.string(), ids);
      s.body += fmt::format(
          "<p><b>On-topic share</b> (demo-data labels, {}): {} of {} selected are on the domain's topic "
          "(<b>{:.1f}%</b>) against the pool's base rate of {:.1f}%.</p>\n",
          escape((dir / "labels.json").string()), share.on_topic, share.selected, 100 * share.share(),
          100 * share.base_rate);
    } catch (const Error& e) {
      s.body += not_available(fmt::format("on-topic share ({})", e.what()));
    }
  }
  return s;
}

}  // namespace ntks::report
