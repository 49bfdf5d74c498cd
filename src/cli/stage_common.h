#pragma once
// What the model stages (embed, grads) share: loading the tokenizer, model
// and adapter from the config, the metadata that fingerprints their inputs,
// feature jobs over record ranges, and the domain set computed in parts by
// every rank and joined by rank 0.

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "command.h"
#include "ntks/data/corpus_index.h"
#include "ntks/features/feature_job.h"
#include "ntks/model/decoder.h"
#include "ntks/tokenizer/tokenizer.h"

namespace ntks::cli {

struct StageSetup {
  tokenizer::Tokenizer tok;
  model::Decoder dec;
  std::string adapter;  ///< adapter folder, "" when none
  config::Template tmpl;
};

/// Tokenizer, model (model.path, dtype, device) and the adapter of the
/// --adapter option: default RUN/warmup (InputError when it is missing), or
/// "none".
StageSetup load_stage(Context& ctx);
/// The same with the adapter given: "" for RUN/warmup, "none", or a folder.
StageSetup load_stage(Context& ctx, std::string adapter);

/// This process's candidate shard and the shard count: array task --shard of
/// --num-shards (0 of 1 without them) times the ranks, rank r of task i
/// writing shard i * ranks + r. UsageError for a bad --shard.
struct CandidateShard {
  int shard = 0, total = 1;
};
CandidateShard candidate_shard(Context& ctx);

/// JSON text of what a stage's rows depend on: model, adapter hash, template,
/// data settings, the corpus files, and `extra` (the stage's own settings).
std::string stage_metadata(const config::Config& cfg, const StageSetup& s, const std::vector<std::string>& files,
                           const nlohmann::json& extra);

/// Records per group (features::group_rows) of `stage` ("embed" or "grads")
/// over a list of `n` records: store.group_rows, or the automatic size with
/// the stage's batch size as its floor (grads.batch_size; embed batches by
/// tokens).
int64_t stage_group_rows(const config::Config& cfg, const std::string& stage, int64_t n);

/// Shard `shard` of `total` over a list of `n` records, position p holding
/// record `record(p)`: whole groups of `stage`, balanced by the records'
/// estimated cost (their bytes: DESIGN §4), so the rows never depend on the
/// shard count.
data::Range stage_shard(const config::Config& cfg, const std::string& stage, const data::CorpusIndex& index,
                        int64_t n, const std::function<int64_t(int64_t)>& record, int shard, int total);

/// A feature job of `stage` over `records` (ascending global indices), the
/// part of a list of `whole_records` that starts at position `first_position`.
features::FeatureJob make_job(const config::Config& cfg, const std::string& stage, const std::string& out,
                              const std::string& skip, const std::string& kind, const std::string& metadata,
                              int64_t dim, std::vector<int64_t> records, int64_t first_position,
                              int64_t whole_records, std::string label);

/// Makes `job` forecast the whole list of `whole_records` over `shards`
/// shards after its first block, into RUN/forecast/<stage>.json.
void add_forecast(features::FeatureJob& job, const config::Config& cfg, const std::string& stage,
                  int64_t whole_records, int shards);

/// run_feature_job() for one of `stage`'s jobs (embed, grads), copying the
/// rows that the feature files of `--reuse RUN` (RUN/<stage>/*.h5) hold for
/// samples of equal content, made the same way (features/row_reuse.h).
features::FeatureJobResult run_job(Context& ctx, StageSetup& s, const std::string& stage, features::FeatureJob job,
                                   const data::CorpusIndex& index, const features::ComputeRows& compute);

/// The `--reuse RUN` option of embed and grads (and run), for their options.
void add_reuse_option(po::options_description& o);

/// The domain set's rows: every rank computes its groups into a part file,
/// then rank 0 joins the parts into `<dir>/domain.h5` (and the skip logs into
/// `<dir>/skipped-domain.jsonl`). Returns the sum over ALL domain rows in
/// float64 on every rank (rank 0 sums the joined rows in record order: the
/// same bits on any rank count; one allreduce) and their count, for means.
struct DomainRows {
  at::Tensor sum;  ///< [dim] float64
  int64_t rows = 0;
};
DomainRows domain_rows(Context& ctx, StageSetup& s, const std::string& dir, const std::string& kind, int64_t dim,
                       const nlohmann::json& extra, const features::ComputeRows& compute);

}  // namespace ntks::cli
