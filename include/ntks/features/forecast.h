#pragma once
// Cost forecasts of the long stages (issue 15 item 5): from a measured rate
// (samples per second on one rank) and the work still to do, the wall time on
// the current hardware and rank count. Two sources feed it:
//   - the first block of an embed or grads job (run_feature_job): the rate of
//     real work, logged and written to RUN/<stage>/forecast.json;
//   - `ntk-select run --dry-run`: a short sample of the candidates through
//     the same code as each stage, before anything runs (RUN/forecast.json).
// Ranks work at once on shares of whole blocks (store.block_rows), so a stage
// of S samples at r samples/s per rank takes S / (r P), P the ranks working
// in parallel: R when every rank has as many rows, fewer when a list has
// fewer blocks than ranks (P = S / the largest share).

#include <cstdint>
#include <string>
#include <vector>

namespace ntks::features {

struct StageForecast {
  std::string stage;            ///< warmup, embed, preselect, grads
  std::string work;             ///< what is counted, e.g. "candidates + domain"
  std::int64_t samples = 0;     ///< samples the stage computes (sample passes for warmup)
  double rate = 0;              ///< measured samples/s on one rank (> 0)
  int ranks = 1;                ///< ranks sharing the work
  double parallel = 0;          ///< ranks busy in effect (samples / the largest share); 0: ranks
  std::string basis;            ///< how the rate was measured ("32 candidates, 1.2 s")

  /// Wall time of the whole stage, seconds.
  double seconds() const;
};

/// A list a stage shares out: its size and its group size (group_rows()).
struct SharedList {
  int64_t records = 0;
  int64_t group_rows = 1;
};

/// P of a stage whose lists (e.g. domain set and candidates) are each cut into
/// groups and shared by `ranks` as the stages share them (group_aligned_shard
/// by row count): the sum of the lists' sizes over the sum of their largest
/// shares.
double parallel_ranks(const std::vector<SharedList>& lists, int ranks);

/// The forecast as aligned text lines (a header, one line per stage, the total).
std::string forecast_table(const std::vector<StageForecast>& rows);

/// JSON object {"stages": [{stage, work, samples, rate_per_rank, ranks,
/// seconds, basis}], "total_seconds", "source"}, written atomically.
void write_forecast_json(const std::string& path, const std::vector<StageForecast>& rows, const std::string& source);

}  // namespace ntks::features
