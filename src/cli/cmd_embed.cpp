// `ntk-select embed`: embeddings of the domain set and of candidate shards
// with the warmed-up adapter (DESIGN §2 step 2), resumable block by block.
//
// Outputs (RUN = run.dir):
//   RUN/embed/domain.h5                          all domain samples
//   RUN/embed/candidates-IIIII-of-NNNNN.h5       one shard per rank (× --num-shards)
//   RUN/embed/candidates.json                    the shards as one dataset, once all exist
//   RUN/embed/skipped-*.jsonl                    lines that did not become samples

#include <filesystem>
#include <iostream>
#include <numeric>
#include <nlohmann/json.hpp>

#include "command.h"
#include "inputs.h"
#include "stage_common.h"
#include "stage_rows.h"
#include "ntks/features/embed.h"
#include "ntks/features/feature_job.h"
#include "ntks/features/feature_set.h"
#include "ntks/log/log.h"
#include "ntks/tokenizer/tokenizer.h"
#include "ntks/util/error.h"

namespace ntks::cli {
namespace {

namespace fs = std::filesystem;

const nlohmann::json kEmbedStage = {{"name", "embed"}};

// Whether the feature set at `path` exists, opens (every shard complete, with
// the rows its index recorded) and was made with `metadata`.
bool complete_set(const std::string& path, const std::string& metadata) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return false;
  try {
    return features::FeatureSet(path).metadata_json() == metadata;
  } catch (const InputError& e) {
    log::warn("{}; embedding the candidates again", e.what());
    return false;
  }
}

void embed_candidates(Context& ctx, StageSetup& s, const std::string& dir) {
  const config::Config& cfg = ctx.cfg;
  const auto files = candidate_files(cfg);
  data::IndexOptions io;
  io.id_field = cfg.data.fields.id;
  const auto index = data::CorpusIndex::open_shared(files, io, ctx.comm);
  const std::string metadata = stage_metadata(cfg, s, files, kEmbedStage);
  // Every shard of an earlier call complete with the same inputs (e.g. the
  // tasks of a Slurm array, any shard count: rows never depend on it): kept,
  // so that `run` after an array job does not embed again.
  if (!ctx.args.count("shard") && complete_set(dir + "/candidates.json", metadata)) {
    log::info0("{}/candidates.json: every shard complete with the same inputs, kept", dir);
    return;
  }
  // Array tasks × ranks: task i's rank r writes shard i * ranks + r.
  const auto [shard, total] = candidate_shard(ctx);
  const data::Range mine = stage_shard(cfg, "embed", index, index.size(), [](int64_t p) { return p; }, shard, total);
  const std::string out = features::shard_file(dir, "candidates", shard, total);
  const std::string skip = (fs::path(dir) / fmt::format("skipped-candidates-{:05d}-of-{:05d}.jsonl", shard, total)).string();
  log::info("candidates: shard {} of {}: records [{}, {}) of {}", shard, total, mine.begin, mine.end, index.size());
  std::vector<int64_t> records(static_cast<size_t>(mine.size()));
  std::iota(records.begin(), records.end(), mine.begin);
  features::FeatureJob job = make_job(cfg, "embed", out, skip, "embeddings", metadata, s.dec.config().hidden_size,
                                      std::move(records), mine.begin, index.size(), "embed candidates");
  add_forecast(job, cfg, "embed", index.size(), total);
  run_job(ctx, s, "embed", std::move(job), index, embed_rows(cfg, s));
  ctx.comm.barrier();
  if (ctx.comm.is_root()) {
    if (features::write_feature_set_index(dir, "candidates", total)) {
      log::info("{}/candidates.json: all {} shards complete", dir, total);
    } else {
      log::info("candidates.json is written when all {} shards are complete (the last task to finish writes it)", total);
    }
  }
}

int embed_main(Context& ctx) {
  const std::string which = ctx.args["which"].as<std::string>();
  if (which != "domain" && which != "candidates" && which != "all")
    throw UsageError(fmt::format("--which {}: expected domain, candidates or all", which));
  if (ctx.args.count("shard") != ctx.args.count("num-shards"))
    throw UsageError("--shard and --num-shards go together");
  if (ctx.cfg.store.block_rows < 1) throw ConfigError("store.block_rows must be at least 1");
  log::StageScope stage("embed");
  StageSetup s = load_stage(ctx);
  const std::string dir = (fs::path(ctx.cfg.run.dir) / "embed").string();
  fs::create_directories(dir);
  if (which != "candidates")
    domain_rows(ctx, s, dir, "embeddings", s.dec.config().hidden_size, kEmbedStage, embed_rows(ctx.cfg, s));
  if (which != "domain") embed_candidates(ctx, s, dir);
  return 0;
}

}  // namespace

Command embed_command() {
  Command c;
  c.name = "embed";
  c.computes = true;
  c.summary = "embeddings (mean final hidden state) of the domain set and candidate shards";
  c.description =
      "Runs the model with the warmed-up adapter (RUN/warmup) over the domain set and the\n"
      "candidates and writes the mean of the final hidden state over each sample's tokens\n"
      "(RUN = run.dir):\n"
      "  RUN/embed/domain.h5, RUN/embed/candidates-IIIII-of-NNNNN.h5 (one shard per rank, or per\n"
      "  rank and array task with --shard/--num-shards), RUN/embed/candidates.json (all shards as\n"
      "  one dataset, written when the last shard is complete), RUN/embed/skipped-*.jsonl.\n"
      "Records are cut into groups (store.group_rows; auto: whole blocks for long lists, as few as\n"
      "16 records for short ones) and each group's samples are batched by model tokens\n"
      "(embed.batch_tokens, at most a quarter padding) after sorting by length; each shard (and\n"
      "each rank's part of the domain set) is a contiguous run of whole groups balanced by\n"
      "estimated work (the records' byte lengths in the corpus index, a stand-in for their token\n"
      "counts), so the rows never depend on the number of shards. Rows are committed per block of\n"
      "store.block_rows records; a killed run continues after the last group it committed; a file\n"
      "that is complete with the same inputs is kept, and so are all candidate shards of an\n"
      "earlier call (array tasks with another --num-shards included) when candidates.json lists\n"
      "them complete.";
  c.options = [](po::options_description& o) {
    o.add_options()
        ("which", po::value<std::string>()->default_value("all"), "domain, candidates or all")
        ("shard", po::value<int>(), "candidates: this array task's shard I (0-based) of --num-shards")
        ("num-shards", po::value<int>(), "candidates: number of array tasks")
        ("adapter", po::value<std::string>()->default_value(""),
         "PEFT adapter folder; default RUN/warmup; 'none' embeds with the base model");
    add_reuse_option(o);
  };
  c.run = embed_main;
  return c;
}

}  // namespace ntks::cli
