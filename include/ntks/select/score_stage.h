#pragma once
// `ntk-select score` (DESIGN §2 step 5): the NTK utility
// s(c) = <g(c), mean_D g> of every candidate row of RUN/grads/candidates.json
// (score.rule ntk), or the domain-vs-candidates discriminant of
// discriminant.h (score.rule lda), written by rank 0 to RUN/score/scores.h5
// (see scores.h).

#include <cstdint>
#include <string>
#include <vector>

#include "ntks/config/config.h"

namespace ntks::dist {
class Communicator;
}

namespace ntks::select {

struct ScoreOptions {
  std::string run_dir;          ///< RUN (run.dir)
  std::int64_t chunk_rows = 0;  ///< rows read at once per rank; 0: about 32 MiB of them
  config::ScoreRule rule = config::ScoreRule::ntk;  ///< score.rule
  double shrink = 0.1;          ///< score.shrink (lda)
  /// select.method: ntk scores gradients (above); the baselines score what
  /// baseline_scores.h says, from the pre-selection (knn) or the corpus (random).
  config::SelectMethod method = config::SelectMethod::ntk;
  std::vector<std::string> candidate_files;  ///< data.candidates (random)
  config::DataConfig data;                   ///< how records parse (random)
  std::uint64_t seed = 0;                    ///< run.seed (random)
  bool less_max = true;                      ///< less.reduce: max (else mean) over domain samples
  std::vector<std::string> domain_files;     ///< data.domain (dsir)
  config::DsirConfig dsir;                   ///< dsir.*
  config::TsdsConfig tsds;                   ///< tsds.*
};

struct ScoreSummary {
  std::string path;              ///< the scores file
  std::int64_t rows = 0;         ///< candidates scored (all ranks)
  std::int64_t dim = 0;          ///< gradient columns
  bool preselected = false;      ///< checked against RUN/preselect/preselected.h5
  double min = 0, max = 0, mean = 0;  ///< of the scores (rank 0 only)
  config::ScoreRule rule = config::ScoreRule::ntk;
  config::SelectMethod method = config::SelectMethod::ntk;
  double lambda = 0;             ///< lda: the ridge used
  std::int64_t skipped = 0;      ///< random: corpus lines that are not records (data.on_error skip)
};

/// Collective over `comm`. Rank 0 first checks the inputs (both grads files
/// present and from the same model/adapter/grads settings; with a
/// pre-selection, the candidate rows are exactly the pre-selected records)
/// while the others wait, so a bad input is reported once. Each rank then
/// scores a contiguous balanced part of the rows in chunks; each score is one
/// float64 sum in column order, so the values never depend on the rank count.
/// Scores are gathered to rank 0, which writes the file. With lda, rank 0
/// first fits the discriminant alone from every domain and candidate row in
/// row order and broadcasts it, so it does not depend on the rank count.
ScoreSummary run_score(const ScoreOptions& options, dist::Communicator& comm);

}  // namespace ntks::select
