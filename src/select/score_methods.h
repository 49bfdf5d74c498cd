#pragma once
// The score stage's methods other than ntk (private to src/select): each
// reads what its select.method scores from and hands a table to write_table.

#include <cstdint>
#include <functional>

#include <torch/torch.h>

#include "ntks/dist/communicator.h"
#include "ntks/features/feature_set.h"
#include "ntks/select/run_files.h"
#include "ntks/select/score_stage.h"
#include "ntks/select/scores.h"

namespace ntks::select::detail {

/// Rank 0 writes `t` to RUN/score/scores.h5; every rank returns the summary
/// (rows and score statistics are filled on rank 0).
ScoreSummary write_table(const RunFiles& f, const ScoreOptions& o, ScoreTable& t, int64_t dim, bool preselected,
                         dist::Communicator& comm);

/// Scores this rank's contiguous part of the rows of `set`, read `chunk`
/// rows at a time: fn(rows, count, out) fills out[0 .. count). Returns every
/// rank's scores gathered on rank 0 (in row order), with a progress line.
at::Tensor score_rows(const features::FeatureSet& set, int64_t chunk, dist::Communicator& comm,
                      const std::function<void(const float*, int64_t, double*)>& fn);

ScoreSummary score_knn(const RunFiles& f, const ScoreOptions& o, dist::Communicator& comm);
ScoreSummary score_random(const RunFiles& f, const ScoreOptions& o, dist::Communicator& comm);
ScoreSummary score_less(const RunFiles& f, const ScoreOptions& o, dist::Communicator& comm);
ScoreSummary score_dsir(const RunFiles& f, const ScoreOptions& o, dist::Communicator& comm);
ScoreSummary score_tsds(const RunFiles& f, const ScoreOptions& o, dist::Communicator& comm);

}  // namespace ntks::select::detail
