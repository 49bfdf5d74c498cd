#pragma once
// Scores of the paper's baselines (select.method), in the score file every
// method writes (scores.h5), so that `select` takes the top M of any of them
// the same way (higher first, ties by lower record):
//   knn     the pre-selection alone: count - d / (1 + d), d its mean distance,
//           which orders exactly as the pre-selection does (count descending,
//           then mean distance ascending); the scored set is the pre-selection.
//   random  every candidate record that parses: a key in [0, 1) from
//           splitmix64(seed ^ content hash), so the top M are a uniform draw
//           without replacement that depends only on the seed and the
//           samples' content: the same draw for every domain set, on any rank
//           count, and unchanged for unchanged samples when a corpus is
//           re-exported or reordered (the paper samples its random auxiliary
//           set once for all tasks).

#include <cstdint>
#include <string>

#include "ntks/config/config.h"
#include "ntks/select/preselected.h"
#include "ntks/select/scores.h"

namespace ntks::dist {
class Communicator;
}
namespace ntks::data {
class CorpusIndex;
}

namespace ntks::select {

/// The knn scores of a pre-selection; metadata_json carries its inputs.
ScoreTable knn_scores(const Preselected& p, const std::string& preselected_path);

/// The key of one record for `seed`.
double random_key(uint64_t seed, uint64_t content_hash);

/// The random scores of every record of `index` (collective: each rank parses
/// a contiguous part, rank 0 gathers). A line that is not a record is an
/// InputError naming file:line under data.on_error fail; under skip it is left
/// out and counted in `skipped`. The table is complete on rank 0 only.
ScoreTable random_scores(const data::CorpusIndex& index, const config::DataConfig& data, uint64_t seed,
                         dist::Communicator& comm, int64_t* skipped);

}  // namespace ntks::select
