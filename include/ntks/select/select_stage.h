#pragma once
// `ntk-select select` (DESIGN §2 step 6): the top M = select.size scored
// candidates and the outputs built from them, in RUN/select/ (RUN = run.dir):
//
//   selected.jsonl     the selected candidates' original lines, best first
//                      (newline rule: outputs.h)
//   selected_ids.txt   their ids, one per line, same order
//   scores.h5          every scored candidate, in record order:
//                        records int64, ids utf-8, scores float64,
//                        rank int64 (1 = best; 0 = not selected),
//                        knn_count int64 (domain points whose k nearest include it;
//                          -1 without RUN/preselect/preselected.h5),
//                        mean_distance float64 (NaN without it);
//                      attributes format = "ntks-selection", format_version = 1, metadata
//   mixture.jsonl      the domain lines used (the rows of RUN/grads/domain.h5
//                      for ntk, of RUN/embed/domain.h5 for knn, every line
//                      that parses as a record for random: domain lines
//                      skipped as bad input are not in it) and the selected
//                      lines, shuffled with run.seed (mixture.h)
//   report.json        counts, score statistics, output sizes, the mixture's
//                      size and XXH3 (finetune checks them), input fingerprints;
//                      written last
//
// Runs in one process (rank 0); every file is written as "<path>.partial" and
// renamed when complete.

#include <cstdint>
#include <string>
#include <vector>

#include "ntks/config/config.h"
#include "ntks/data/corpus_index.h"

namespace ntks::select {

struct SelectOptions {
  std::string run_dir;                       ///< RUN (run.dir)
  std::int64_t size = 0;                     ///< M (select.size)
  std::uint64_t seed = 0;                    ///< run.seed: the mixture's shuffle
  std::vector<std::string> domain_files;     ///< data.domain
  std::vector<std::string> candidate_files;  ///< data.candidates
  data::IndexOptions index;                  ///< how records are indexed and named (data.fields.id)
  config::SelectMethod method = config::SelectMethod::ntk;  ///< select.method: where the domain lines come from
  config::DataConfig data;                   ///< how domain records parse (random)
};

struct ScoreStats {
  double min = 0, max = 0, mean = 0;
};

struct SelectSummary {
  std::string dir;                    ///< RUN/select
  std::int64_t selected = 0;          ///< M
  std::int64_t scored = 0;            ///< candidates with a score
  bool preselected = false;           ///< kNN columns from RUN/preselect/preselected.h5
  std::int64_t domain_lines = 0;      ///< domain lines in the mixture
  ScoreStats selected_scores, all_scores;
  std::vector<std::string> first_ids;  ///< the best few selected ids
  std::uint64_t seed = 0;
};

/// Reads RUN/score/scores.h5 (and RUN/preselect/preselected.h5 when present),
/// selects and writes the outputs. UsageError naming both numbers when M is
/// larger than the number of scored candidates; InputError naming the file and
/// the stage that makes it when an input is missing, and when inputs disagree
/// (another corpus, another grads run, another pre-selection, changed lines).
SelectSummary run_select(const SelectOptions& options);

/// The few lines printed at the end: how many were selected of how many, the
/// score range, the first ids and where the files are.
std::string summary_text(const SelectSummary& s);

}  // namespace ntks::select
