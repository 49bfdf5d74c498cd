#pragma once
// The sections of the report, one function each (one file each). A section
// that lacks its input says "not available: why" in its body; report.cpp also
// turns an exception of one section into such a line, so one unreadable file
// never costs the whole page.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ntks/data/corpus_index.h"
#include "ntks/report/html.h"
#include "run_data.h"

namespace ntks::report {

/// The candidate corpus opened through its index, or why it cannot be.
struct Corpus {
  std::unique_ptr<data::CorpusIndex> index;
  std::string why;
};
Corpus open_corpus(const RunData& run);

/// Bounds of the report's size and time.
struct Limits {
  std::int64_t map_points = 2000;     ///< points per group of the embedding map
  std::int64_t label_sample = 20000;  ///< pool records read for the label shares
  std::int64_t samples = 10;          ///< best and worst selected samples shown
};

Section stages_section(const RunData& run);
Section forecast_section(const RunData& run);
Section scores_section(const RunData& run);
Section knn_section(const RunData& run);
Section composition_section(const RunData& run, const Corpus& corpus, const Limits& limits);
Section map_section(const RunData& run, const Limits& limits);
Section samples_section(const RunData& run, const Corpus& corpus, const Limits& limits);
Section diagnostics_section(const RunData& run);

/// One record's text for a table: "prompt → response" by the run's fields,
/// shortened to `max_bytes`; the raw line (shortened) when it does not parse.
std::string record_text(const std::string& line, const CorpusInfo* corpus, std::size_t max_bytes);

/// `count` indices spread evenly over [0, n) (all of them when n <= count), ascending.
std::vector<std::int64_t> spread(std::int64_t n, std::int64_t count);

}  // namespace ntks::report
