// `ntk-select embed`: embeddings of the domain set and of candidate shards
// with the warmed-up adapter (DESIGN §2 step 2), resumable block by block.
//
// Outputs (RUN = run.dir):
//   RUN/embed/domain.h5                          all domain samples
//   RUN/embed/candidates-IIIII-of-NNNNN.h5       one shard per rank (× --num-shards)
//   RUN/embed/candidates.json                    the shards as one dataset, once all exist
//   RUN/embed/skipped-*.jsonl                    lines that did not become samples

#include <xxhash.h>

#include <filesystem>
#include <iostream>
#include <numeric>
#include <nlohmann/json.hpp>

#include "command.h"
#include "inputs.h"
#include "ntks/config/enums.h"
#include "ntks/config/load.h"
#include "ntks/data/chat_template.h"
#include "ntks/features/embed.h"
#include "ntks/features/feature_job.h"
#include "ntks/features/feature_set.h"
#include "ntks/log/log.h"
#include "ntks/model/adapter.h"
#include "ntks/model/device.h"
#include "ntks/tokenizer/tokenizer.h"
#include "ntks/util/error.h"
#include "ntks/util/files.h"

namespace ntks::cli {
namespace {

namespace fs = std::filesystem;

std::string file_hash(const std::string& path) {
  const std::string bytes = read_file(path);
  return fmt::format("{:016x}", XXH3_64bits(bytes.data(), bytes.size()));
}

// What the embeddings depend on: a file with other metadata is recomputed.
std::string embed_metadata(const config::Config& cfg, const std::string& adapter, config::Template tmpl,
                           const std::vector<std::string>& files) {
  nlohmann::json corpus = nlohmann::json::array();
  for (const std::string& f : files) corpus.push_back(fs::absolute(f).string());
  nlohmann::json fields = {{"id", cfg.data.fields.id},         {"instruction", cfg.data.fields.instruction},
                           {"input", cfg.data.fields.input},   {"output", cfg.data.fields.output},
                           {"messages", cfg.data.fields.messages}, {"prompt", cfg.data.fields.prompt},
                           {"response", cfg.data.fields.response}, {"system", cfg.data.fields.system}};
  return nlohmann::json{{"stage", "embed"},
                        {"model", fs::absolute(cfg.model.path).string()},
                        {"model_config", file_hash(cfg.model.path + "/config.json")},
                        {"adapter", adapter.empty() ? "none" : file_hash(adapter + "/adapter_model.safetensors")},
                        {"dtype", config::to_string(cfg.model.dtype)},
                        {"template", config::to_string(tmpl)},
                        {"max_seq_len", cfg.model.max_seq_len},
                        {"overlong", config::to_string(cfg.data.overlong)},
                        {"format", config::to_string(cfg.data.format)},
                        {"fields", fields},
                        {"corpus", corpus}}
      .dump();
}

struct Setup {
  tokenizer::Tokenizer tok;
  model::Decoder dec;
  std::string adapter;  ///< "" when none
  config::Template tmpl;
};

Setup load(Context& ctx) {
  const config::Config& cfg = ctx.cfg;
  if (cfg.model.path.empty()) throw ConfigError("model.path is not set: the Hugging Face model folder");
  std::string adapter = ctx.args["adapter"].as<std::string>();
  if (adapter.empty()) {
    adapter = (fs::path(cfg.run.dir) / "warmup").string();
    if (!fs::exists(fs::path(adapter) / "adapter_config.json"))
      throw InputError(fmt::format("{}: no warmed-up adapter (run `ntk-select warmup` first, or pass --adapter DIR "
                                   "or --adapter none)",
                                   adapter));
  } else if (adapter == "none") {
    adapter.clear();
  }
  auto tok = tokenizer::Tokenizer::load(tokenizer_file(cfg));
  const at::Device device = model::choose_device(cfg.model.device, ctx.comm.local_rank());
  auto dec = model::Decoder::load(cfg.model.path, model::compute_dtype(cfg.model.dtype), device);
  if (!adapter.empty()) model::load_adapter(dec, adapter);
  const config::Template tmpl = data::resolve_template(cfg.model.chat_template, tok);
  return {std::move(tok), std::move(dec), adapter, tmpl};
}

features::FeatureJob make_job(const config::Config& cfg, const std::string& out, const std::string& skip,
                              const std::string& metadata, int64_t dim, data::Range positions, std::string label) {
  features::FeatureJob job;
  job.out_path = out;
  job.skip_path = skip;
  job.spec.dim = dim;
  job.spec.dtype = cfg.store.dtype == config::StoreDType::fp16 ? store::ElementType::f16 : store::ElementType::f32;
  job.spec.kind = "embeddings";
  job.spec.metadata_json = metadata;
  job.records.resize(static_cast<size_t>(positions.size()));
  std::iota(job.records.begin(), job.records.end(), positions.begin);
  job.first_position = positions.begin;
  job.block_rows = cfg.store.block_rows;
  job.label = std::move(label);
  return job;
}

// Every rank embeds its blocks of the domain set into a part file; rank 0
// joins the parts into domain.h5 (the domain set is small).
void embed_domain(Context& ctx, Setup& s, const std::string& dir) {
  const config::Config& cfg = ctx.cfg;
  const auto files = domain_files(cfg);
  data::IndexOptions io;
  io.id_field = cfg.data.fields.id;
  const auto index = data::CorpusIndex::open_shared(files, io, ctx.comm);
  const std::string metadata = embed_metadata(cfg, s.adapter, s.tmpl, files);
  const std::string out = (fs::path(dir) / "domain.h5").string();
  std::error_code ec;
  bool done = false;
  if (fs::is_regular_file(out, ec)) done = store::FeatureReader(out).metadata_json() == metadata;
  if (done) {
    log::info0("{}: complete with the same inputs, kept", out);
    return;
  }
  const int rank = ctx.comm.rank(), size = ctx.comm.size();
  const std::string parts = (fs::path(dir) / "domain-parts").string();
  const std::string part = features::shard_file(parts, "domain", rank, size);
  const std::string part_skip = (fs::path(parts) / fmt::format("skipped-{:05d}-of-{:05d}.jsonl", rank, size)).string();
  const data::Range mine = features::block_aligned_shard(index.size(), cfg.store.block_rows, rank, size);
  const auto r = features::run_feature_job(
      make_job(cfg, part, part_skip, metadata, s.dec.config().hidden_size, mine, "embed domain"), index, cfg, s.tok,
      [&](const std::vector<data::Sample>& samples) { return features::embed_samples(s.dec, samples, cfg.embed.batch_tokens); });
  if (r.stats.skipped + r.stats.dropped) log::warn("domain: {}", r.stats.summary());
  ctx.comm.barrier();
  if (ctx.comm.is_root()) {
    // Join the parts in rank order (= record order) into domain.h5.
    store::FeatureFileSpec spec;
    spec.dim = s.dec.config().hidden_size;
    spec.dtype = cfg.store.dtype == config::StoreDType::fp16 ? store::ElementType::f16 : store::ElementType::f32;
    spec.kind = "embeddings";
    spec.metadata_json = metadata;
    auto w = store::FeatureWriter::create(out, spec);
    std::string skipped;
    for (int p = 0; p < size; ++p) {
      store::FeatureReader in(features::shard_file(parts, "domain", p, size));
      std::vector<float> rows(static_cast<size_t>(in.rows() * in.dim()));
      in.read_rows(0, in.rows(), rows.data());
      w.append(rows.data(), in.rows(), in.keys(0, in.rows()).data(), in.ids(0, in.rows()),
               in.indices(0, in.rows()).data(), in.tokens(0, in.rows()).data());
      skipped += read_file((fs::path(parts) / fmt::format("skipped-{:05d}-of-{:05d}.jsonl", p, size)).string());
    }
    write_file_atomic((fs::path(dir) / "skipped-domain.jsonl").string(), skipped);
    w.finalize();
    fs::remove_all(parts);
    log::info("{}: {} domain embeddings", out, w.rows());
  }
  ctx.comm.barrier();
}

void embed_candidates(Context& ctx, Setup& s, const std::string& dir) {
  const config::Config& cfg = ctx.cfg;
  const auto& a = ctx.args;
  const auto files = candidate_files(cfg);
  data::IndexOptions io;
  io.id_field = cfg.data.fields.id;
  const auto index = data::CorpusIndex::open_shared(files, io, ctx.comm);
  const std::string metadata = embed_metadata(cfg, s.adapter, s.tmpl, files);
  // Array tasks × ranks: task i's rank r writes shard i * ranks + r.
  const int tasks = a.count("num-shards") ? a["num-shards"].as<int>() : 1;
  const int task = a.count("shard") ? a["shard"].as<int>() : 0;
  if (tasks < 1 || task < 0 || task >= tasks)
    throw UsageError(fmt::format("--shard {} --num-shards {}: expected 0 <= shard < num-shards", task, tasks));
  const int total = tasks * ctx.comm.size();
  const int shard = task * ctx.comm.size() + ctx.comm.rank();
  const data::Range mine = features::block_aligned_shard(index.size(), cfg.store.block_rows, shard, total);
  const std::string out = features::shard_file(dir, "candidates", shard, total);
  const std::string skip = (fs::path(dir) / fmt::format("skipped-candidates-{:05d}-of-{:05d}.jsonl", shard, total)).string();
  log::info("candidates: shard {} of {}: records [{}, {}) of {}", shard, total, mine.begin, mine.end, index.size());
  const auto r = features::run_feature_job(
      make_job(cfg, out, skip, metadata, s.dec.config().hidden_size, mine, "embed candidates"), index, cfg, s.tok,
      [&](const std::vector<data::Sample>& samples) { return features::embed_samples(s.dec, samples, cfg.embed.batch_tokens); });
  if (!r.reused) log::info("{}: {} rows ({} resumed); {}", out, r.rows, r.resumed_rows, r.stats.summary());
  ctx.comm.barrier();
  if (ctx.comm.is_root()) {
    if (features::write_feature_set_index(dir, "candidates", total)) {
      log::info("{}/candidates.json: all {} shards complete", dir, total);
    } else {
      log::info("candidates.json is written when all {} shards are complete (the last task to finish writes it)", total);
    }
  }
}

int run(Context& ctx) {
  const std::string which = ctx.args["which"].as<std::string>();
  if (which != "domain" && which != "candidates" && which != "all")
    throw UsageError(fmt::format("--which {}: expected domain, candidates or all", which));
  if (ctx.args.count("shard") != ctx.args.count("num-shards"))
    throw UsageError("--shard and --num-shards go together");
  if (ctx.cfg.store.block_rows < 1) throw ConfigError("store.block_rows must be at least 1");
  log::StageScope stage("embed");
  Setup s = load(ctx);
  const std::string dir = (fs::path(ctx.cfg.run.dir) / "embed").string();
  fs::create_directories(dir);
  if (which != "candidates") embed_domain(ctx, s, dir);
  if (which != "domain") embed_candidates(ctx, s, dir);
  return 0;
}

}  // namespace

Command embed_command() {
  Command c;
  c.name = "embed";
  c.summary = "embeddings (mean final hidden state) of the domain set and candidate shards";
  c.description =
      "Runs the model with the warmed-up adapter (RUN/warmup) over the domain set and the\n"
      "candidates and writes the mean of the final hidden state over each sample's tokens\n"
      "(RUN = run.dir):\n"
      "  RUN/embed/domain.h5, RUN/embed/candidates-IIIII-of-NNNNN.h5 (one shard per rank, or per\n"
      "  rank and array task with --shard/--num-shards), RUN/embed/candidates.json (all shards as\n"
      "  one dataset, written when the last shard is complete), RUN/embed/skipped-*.jsonl.\n"
      "Samples are batched by model tokens (embed.batch_tokens) after sorting by length, in blocks\n"
      "of store.block_rows records. A killed run continues after the last block it committed; a\n"
      "file that is complete with the same inputs is kept.";
  c.options = [](po::options_description& o) {
    o.add_options()
        ("which", po::value<std::string>()->default_value("all"), "domain, candidates or all")
        ("shard", po::value<int>(), "candidates: this array task's shard I (0-based) of --num-shards")
        ("num-shards", po::value<int>(), "candidates: number of array tasks")
        ("adapter", po::value<std::string>()->default_value(""),
         "PEFT adapter folder; default RUN/warmup; 'none' embeds with the base model");
  };
  c.run = run;
  return c;
}

}  // namespace ntks::cli
