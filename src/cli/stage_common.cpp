#include "stage_common.h"

#include <xxhash.h>

#include <algorithm>
#include <filesystem>
#include <numeric>

#include "inputs.h"
#include "ntks/config/enums.h"
#include "ntks/data/chat_template.h"
#include "ntks/features/feature_set.h"
#include "ntks/log/log.h"
#include "ntks/model/adapter.h"
#include "ntks/model/device.h"
#include "ntks/pipeline/fingerprint.h"
#include "ntks/util/error.h"
#include "ntks/util/files.h"

namespace ntks::cli {
namespace {

namespace fs = std::filesystem;

std::string file_hash(const std::string& path) {
  const std::string bytes = read_file(path);
  return fmt::format("{:016x}", XXH3_64bits(bytes.data(), bytes.size()));
}

store::ElementType store_type(const config::Config& cfg) {
  return cfg.store.dtype == config::StoreDType::fp16 ? store::ElementType::f16 : store::ElementType::f32;
}

// Sum of all rows of a feature file in float64.
at::Tensor row_sum(const store::FeatureReader& r) {
  at::Tensor rows = at::empty({r.rows(), r.dim()}, at::kFloat);
  if (r.rows() > 0) r.read_rows(0, r.rows(), rows.data_ptr<float>());
  return rows.to(at::kDouble).sum(0);
}

}  // namespace

StageSetup load_stage(Context& ctx) { return load_stage(ctx, ctx.args["adapter"].as<std::string>()); }

StageSetup load_stage(Context& ctx, std::string adapter) {
  const config::Config& cfg = ctx.cfg;
  if (cfg.model.path.empty()) throw ConfigError("model.path is not set: the Hugging Face model folder");
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

CandidateShard candidate_shard(Context& ctx) {
  const auto& a = ctx.args;
  if (a.count("shard") != a.count("num-shards")) throw UsageError("--shard and --num-shards go together");
  const int tasks = a.count("num-shards") ? a["num-shards"].as<int>() : 1;
  const int task = a.count("shard") ? a["shard"].as<int>() : 0;
  if (tasks < 1 || task < 0 || task >= tasks)
    throw UsageError(fmt::format("--shard {} --num-shards {}: expected 0 <= shard < num-shards", task, tasks));
  return {task * ctx.comm.size() + ctx.comm.rank(), tasks * ctx.comm.size()};
}

std::string stage_metadata(const config::Config& cfg, const StageSetup& s, const std::vector<std::string>& files,
                           const nlohmann::json& extra) {
  nlohmann::json corpus = nlohmann::json::array();
  for (const std::string& f : files) corpus.push_back(fs::absolute(f).string());
  const config::DataFields& f = cfg.data.fields;
  const nlohmann::json fields = {{"id", f.id},           {"instruction", f.instruction}, {"input", f.input},
                                 {"output", f.output},   {"messages", f.messages},       {"prompt", f.prompt},
                                 {"response", f.response}, {"system", f.system}};
  return nlohmann::json{{"model", fs::absolute(cfg.model.path).string()},
                        // config.json and weights by content: rows are reused by this
                        // metadata (--reuse), and a model replaced in place keeps its path
                        {"model_weights", pipeline::model_digest(cfg.model.path)},
                        {"adapter", s.adapter.empty() ? "none" : file_hash(s.adapter + "/adapter_model.safetensors")},
                        {"dtype", config::to_string(cfg.model.dtype)},
                        {"template", config::to_string(s.tmpl)},
                        {"max_seq_len", cfg.model.max_seq_len},
                        {"overlong", config::to_string(cfg.data.overlong)},
                        {"format", config::to_string(cfg.data.format)},
                        {"fields", fields},
                        {"corpus", corpus},
                        {"stage", extra}}
      .dump();
}

int64_t stage_group_rows(const config::Config& cfg, const std::string& stage, int64_t n) {
  const int64_t batch = stage == "grads" ? cfg.grads.batch_size : 1;
  return features::group_rows(n, cfg.store.block_rows, batch, cfg.store.group_rows);
}

data::Range stage_shard(const config::Config& cfg, const std::string& stage, const data::CorpusIndex& index,
                        int64_t n, const std::function<int64_t(int64_t)>& record, int shard, int total) {
  return features::group_aligned_shard(n, stage_group_rows(cfg, stage, n), shard, total,
                                       [&](int64_t p) { return features::record_cost(index, record(p)); });
}

features::FeatureJob make_job(const config::Config& cfg, const std::string& stage, const std::string& out,
                              const std::string& skip, const std::string& kind, const std::string& metadata,
                              int64_t dim, std::vector<int64_t> records, int64_t first_position,
                              int64_t whole_records, std::string label) {
  features::FeatureJob job;
  job.out_path = out;
  job.skip_path = skip;
  job.spec.dim = dim;
  job.spec.dtype = store_type(cfg);
  job.spec.kind = kind;
  job.spec.metadata_json = metadata;
  job.records = std::move(records);
  job.first_position = first_position;
  job.group_rows = stage_group_rows(cfg, stage, whole_records);
  job.block_rows = cfg.store.block_rows;
  job.label = std::move(label);
  return job;
}

void add_reuse_option(po::options_description& o) {
  o.add_options()(
      "reuse", po::value<std::string>(),
      "RUN folder of an earlier run (never this run's): copy its rows for samples whose content is "
      "unchanged instead of computing them, where they were made with the same model, adapter and "
      "settings (a refreshed corpus: only new samples are computed; the manifest counts both)");
}

void add_forecast(features::FeatureJob& job, const config::Config& cfg, const std::string& stage,
                  int64_t whole_records, int shards) {
  job.stage = stage;
  job.whole_records = whole_records;
  job.shards = shards;
  // Not in RUN/<stage>/: the stage manifests list what is there as outputs.
  const fs::path dir = fs::path(cfg.run.dir) / "forecast";
  fs::create_directories(dir);
  job.forecast_path = (dir / (stage + ".json")).string();
}

features::FeatureJobResult run_job(Context& ctx, StageSetup& s, const std::string& stage, features::FeatureJob job,
                                   const data::CorpusIndex& index, const features::ComputeRows& compute) {
  features::RowReuse reuse;
  if (ctx.args.count("reuse")) {
    const fs::path prev = reuse_folder(ctx.cfg, ctx.args["reuse"].as<std::string>());
    std::error_code ec;
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(prev / stage, ec))
      if (e.is_regular_file() && e.path().extension() == ".h5") files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    reuse = features::RowReuse::open(files, job.spec);
    log::info("reuse: {} rows of {} usable for {}", reuse.rows(), (prev / stage).string(), job.label);
  }
  job.reuse = &reuse;
  const features::FeatureJobResult r = features::run_feature_job(job, index, ctx.cfg, s.tok, compute);
  if (!r.reused) {
    log::info("{}: {} rows ({} resumed, {} copied from --reuse); {}", job.out_path, r.rows, r.resumed_rows,
              r.reused_rows, r.stats.summary());
  }
  return r;
}

DomainRows domain_rows(Context& ctx, StageSetup& s, const std::string& dir, const std::string& kind, int64_t dim,
                       const nlohmann::json& extra, const features::ComputeRows& compute) {
  const config::Config& cfg = ctx.cfg;
  const auto files = domain_files(cfg);
  data::IndexOptions io;
  io.id_field = cfg.data.fields.id;
  const auto index = data::CorpusIndex::open_shared(files, io, ctx.comm);
  const std::string metadata = stage_metadata(cfg, s, files, extra);
  const std::string out = (fs::path(dir) / "domain.h5").string();
  std::error_code ec;
  if (fs::is_regular_file(out, ec) && store::FeatureReader(out).metadata_json() == metadata) {
    log::info0("{}: complete with the same inputs, kept", out);
    store::FeatureReader r(out);
    return {row_sum(r), r.rows()};
  }
  const int rank = ctx.comm.rank(), size = ctx.comm.size();
  const std::string parts = (fs::path(dir) / "domain-parts").string();
  const auto part_skip = [&](int p) {
    return (fs::path(parts) / fmt::format("skipped-{:05d}-of-{:05d}.jsonl", p, size)).string();
  };
  const std::string stage = fs::path(dir).filename().string();
  const data::Range mine = stage_shard(cfg, stage, index, index.size(), [](int64_t p) { return p; }, rank, size);
  std::vector<int64_t> records(static_cast<size_t>(mine.size()));
  std::iota(records.begin(), records.end(), mine.begin);
  const auto r = run_job(ctx, s, stage,
                         make_job(cfg, stage, features::shard_file(parts, "domain", rank, size), part_skip(rank), kind,
                                  metadata, dim, std::move(records), mine.begin, index.size(), kind + " domain"),
                         index, compute);
  if (r.stats.skipped + r.stats.dropped) log::warn("domain: {}", r.stats.summary());

  ctx.comm.barrier();
  // The sum over the domain: rank 0 adds the joined rows in record order in
  // float64 and the others add zeros in the allreduce, so the sum has the
  // same bits whatever the rank count (per-rank partial sums would be added
  // in an order that depends on it).
  at::Tensor both = at::zeros({dim + 1}, at::kDouble);
  if (ctx.comm.is_root()) {  // join the parts in rank order (= record order)
    store::FeatureFileSpec spec;
    spec.dim = dim;
    spec.dtype = store_type(cfg);
    spec.kind = kind;
    spec.metadata_json = metadata;
    auto w = store::FeatureWriter::create(out, spec);
    std::string skipped;
    for (int p = 0; p < size; ++p) {
      store::FeatureReader in(features::shard_file(parts, "domain", p, size));
      std::vector<float> rows(static_cast<size_t>(in.rows() * in.dim()));
      if (in.rows() > 0) in.read_rows(0, in.rows(), rows.data());
      w.append(rows.data(), in.rows(), in.keys(0, in.rows()).data(), in.ids(0, in.rows()),
               in.indices(0, in.rows()).data(), in.tokens(0, in.rows()).data(), in.reused_rows());
      skipped += read_file(part_skip(p));
    }
    write_file_atomic((fs::path(dir) / "skipped-domain.jsonl").string(), skipped);
    w.finalize();
    fs::remove_all(parts);
    log::info("{}: {} domain rows", out, w.rows());
    store::FeatureReader joined(out);
    both = at::cat({row_sum(joined), at::tensor({static_cast<double>(joined.rows())}, at::kDouble)});
  }
  ctx.comm.allreduce(both, dist::ReduceOp::sum);
  return {both.narrow(0, 0, dim).clone(), static_cast<int64_t>(both[dim].item<double>())};
}

}  // namespace ntks::cli
