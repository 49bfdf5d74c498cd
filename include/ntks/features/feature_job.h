#pragma once
// One feature file of one shard, written block by block and resumable: the
// shared engine of the embed and grads stages.
//
// The job's records (global indices, in order) are cut into groups of
// `group_rows` consecutive entries, counted from the start of the whole list
// the caller sharded, so group boundaries — and hence which samples share a
// batch — do not depend on the number of ranks or shards. Groups are the
// unit shards are dealt in (small enough that a list of a few hundred
// records still keeps every rank busy) and the unit one compute call gets.
// Rows are committed per block of `block_rows` positions (a multiple of
// group_rows, so blocks are whole groups; a shard's first and last block may
// be partial). Per group: read and tokenize the samples (bad lines go to the
// skip log) and compute their rows; per block: make the skip entries
// durable, then append the rows (durable). A killed run leaves
// "<out>.partial" and "<skip>.partial"; the next run continues after the
// group of the last committed row, dropping skip entries past it, so no row
// is lost or written twice.

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ntks/config/config.h"
#include "ntks/data/corpus_index.h"
#include "ntks/data/sample_reader.h"
#include "ntks/features/row_reuse.h"
#include "ntks/store/feature_file.h"

namespace ntks::tokenizer {
class Tokenizer;
}

namespace ntks::features {

struct FeatureJob {
  std::string out_path;          ///< final feature file
  std::string skip_path;         ///< skip log of this job
  store::FeatureFileSpec spec;   ///< dim, dtype, kind and the metadata (fingerprints)
  std::vector<int64_t> records;  ///< global record indices, in order
  int64_t first_position = 0;    ///< position of records[0] in the list the caller sharded
  int64_t group_rows = 1024;     ///< records per group (group_rows()); divides block_rows
  int64_t block_rows = 1024;     ///< positions per committed block (store.block_rows)
  std::string label;             ///< progress label
  /// Rows of an earlier run to copy by content hash instead of computing
  /// (none when null or empty). Only the samples it lacks reach ComputeRows.
  const RowReuse* reuse = nullptr;
  /// Forecast after the first computed block (features/forecast.h): the
  /// stage name, the whole list's size over every shard and the shard count
  /// it extrapolates to. The job holding position 0 logs it and, with a
  /// forecast_path, writes it there; whole_records 0: no forecast.
  std::string stage;
  int64_t whole_records = 0;
  int shards = 1;
  std::string forecast_path;
};

/// Rows [n, dim] (fp32, CPU) of `samples`, in their order.
using ComputeRows = std::function<at::Tensor(const std::vector<data::Sample>& samples)>;

struct FeatureJobResult {
  int64_t rows = 0;          ///< rows in the finished file
  int64_t resumed_rows = 0;  ///< rows found in a partial file and kept
  int64_t reused_rows = 0;   ///< rows of the file copied from an earlier run (the file's count)
  bool reused = false;       ///< the file was already complete with the same metadata
  data::ReadStats stats;     ///< records read by this run (not those of a resumed part)
};

/// Runs the job. A complete file at out_path with the same metadata is kept
/// as it is; one with other metadata, or a partial file with other metadata,
/// is replaced (with a warning).
FeatureJobResult run_feature_job(const FeatureJob& job, const data::CorpusIndex& index, const config::Config& cfg,
                                 const tokenizer::Tokenizer& tok, const ComputeRows& compute);

/// Records per group for a list of `n` entries: `configured` when > 0 (it
/// must divide block_rows), else block_rows halved while it stays even and
/// at least `min_rows` (kMinGroupRows or the stage's batch size, the larger)
/// and the list has fewer than kGroupsPerList groups. So long lists keep
/// whole blocks (embed sorts a group by length: longer groups, less
/// padding) and short ones are cut fine enough to keep ranks busy. Depends
/// on the list alone, never on the rank or shard count, and always divides
/// block_rows.
constexpr int64_t kGroupsPerList = 128;
constexpr int64_t kMinGroupRows = 16;
int64_t group_rows(int64_t n, int64_t block_rows, int64_t min_rows, int64_t configured);

/// The [begin, end) positions of shard `shard` of `num_shards` over a list of
/// `n` entries cut into groups of `group_rows` (counted from position 0):
/// whole groups only, contiguous and in order, balanced by weight. Boundary k
/// is the group boundary nearest to k/num_shards of the total weight (ties:
/// the earlier one), so every shard's weight is within one group's weight of
/// the mean. `weight(p)` >= 0 is entry p's cost; when all weights are 0 the
/// entries count 1 each. Every rank computes the same ranges on its own.
data::Range group_aligned_shard(int64_t n, int64_t group_rows, int shard, int num_shards,
                                const std::function<int64_t(int64_t)>& weight);
/// As above with every entry weighing 1 (balanced by record count).
data::Range group_aligned_shard(int64_t n, int64_t group_rows, int shard, int num_shards);

/// Cost estimate of a record before it is tokenized, to balance shards by
/// work (DESIGN §4: by token count): its byte length in the index plus
/// kRecordOverheadBytes. A stage's time is nearly linear in tokens at the
/// lengths it runs (the attention's quadratic part is small next to the
/// projections), and bytes per token vary little within a corpus (a
/// byte-level BPE on one kind of text: roughly 3-5 bytes per token; JSON keys
/// and escapes add a nearly constant share), so bytes are proportional to
/// tokens as far as balancing needs; the constant stands for what every
/// sample costs whatever its length (the chat template's framing tokens, a
/// projected gradient's per-sample projection).
constexpr int64_t kRecordOverheadBytes = 64;
int64_t record_cost(const data::CorpusIndex& index, int64_t global);

}  // namespace ntks::features
