// The best and the worst of the selected samples, with their scores.

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "ntks/data/record.h"
#include "ntks/util/error.h"
#include "sections.h"

namespace ntks::report {

namespace fs = std::filesystem;

std::string record_text(const std::string& line, const CorpusInfo* corpus, std::size_t max_bytes) {
  config::DataConfig cfg;
  if (corpus) {
    const json& f = corpus->fields;
    auto take = [&](const char* key, std::string& into) {
      if (f.contains(key) && f[key].is_string()) into = f[key].get<std::string>();
    };
    take("id", cfg.fields.id);
    take("instruction", cfg.fields.instruction);
    take("input", cfg.fields.input);
    take("output", cfg.fields.output);
    take("messages", cfg.fields.messages);
    take("prompt", cfg.fields.prompt);
    take("response", cfg.fields.response);
    take("system", cfg.fields.system);
  }
  try {
    const data::ParsedRecord r = data::parse_record(line, cfg);
    if (r.messages.empty()) return shorten(fmt::format("(pre-tokenized: {} ids)", r.ids.size()), max_bytes);
    std::string prompt, response;
    for (const data::Message& m : r.messages) {
      std::string& into = m.role == "assistant" ? response : prompt;
      if (m.role == "system") continue;
      into += (into.empty() ? "" : " / ") + m.content;
    }
    const std::size_t half = max_bytes * 3 / 5;
    return shorten(prompt, half) + "  \u2192  " + shorten(response, max_bytes - std::min(half, prompt.size()));
  } catch (const Error&) {
    return shorten(line, max_bytes);
  }
}

Section samples_section(const RunData& run, const Corpus& corpus, const Limits& limits) {
  Section s{"samples", "Best and worst selected samples", ""};
  if (const std::string why = run.selection_missing(); !why.empty()) {
    s.body = not_available(why);
    return s;
  }
  const Scored& t = *run.scored;
  std::vector<size_t> order;  // selected rows, best first
  for (size_t i = 0; i < t.rank.size(); ++i)
    if (t.rank[i] > 0) order.push_back(i);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return t.rank[a] < t.rank[b]; });
  if (order.empty()) {
    s.body = not_available("nothing is selected");
    return s;
  }
  // The lines: RUN/select/selected.jsonl holds them best first; else the corpus.
  std::vector<std::string> lines;
  const std::string jsonl = run.path("select/selected.jsonl");
  std::error_code ec;
  if (fs::is_regular_file(jsonl, ec)) {
    std::ifstream in(jsonl, std::ios::binary);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  const bool from_file = lines.size() == order.size();
  auto line_of = [&](size_t k) -> std::string {
    if (from_file) return lines[k];
    if (corpus.index && t.records[order[k]] < corpus.index->size()) return corpus.index->read(t.records[order[k]]);
    return "";
  };
  const CorpusInfo* info = run.corpus ? &*run.corpus : nullptr;
  auto rows_for = [&](size_t from, size_t to) {
    std::vector<std::vector<std::string>> rows;
    for (size_t k = from; k < to; ++k) {
      const size_t i = order[k];
      const std::string line = line_of(k);
      rows.push_back(
          {number(static_cast<double>(t.rank[i])), escape(t.ids[i]), number(t.scores[i], 8),
           t.knn_count[i] >= 0 ? number(static_cast<double>(t.knn_count[i])) : "",
           line.empty() ? "<span class=\"na\">line not available</span>" : escape(record_text(line, info, 320))});
    }
    return rows;
  };
  const size_t m = order.size(), shown = static_cast<size_t>(std::max<std::int64_t>(1, limits.samples));
  const std::vector<std::string> header = {"rank", "id", "score", "kNN votes", "text (prompt \u2192 response)"};
  s.body += fmt::format("<p>{} selected; the text is shortened{}.</p>\n", m,
                        from_file ? "" : " (read from the corpus: RUN/select/selected.jsonl is missing or differs)");
  s.body += "<h3>Best</h3>\n" + table(header, rows_for(0, std::min(shown, m)), {0, 2, 3});
  if (m > shown) {
    s.body +=
        "<h3>Worst (the last selected)</h3>\n" + table(header, rows_for(std::max(shown, m - shown), m), {0, 2, 3});
  } else {
    s.body += "<p class=\"note\">All selected samples are shown above.</p>\n";
  }
  return s;
}

}  // namespace ntks::report
