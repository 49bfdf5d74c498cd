// `ntk-select grads`: projected per-sample LoRA gradients (DESIGN §2 step 4)
// of the domain set (and their mean) and of candidates, resumable block by
// block.
//
// Outputs (RUN = run.dir):
//   RUN/grads/domain.h5                        every domain sample's row
//   RUN/grads/domain_mean.h5                   their mean: one row
//   RUN/grads/candidates-IIIII-of-NNNNN.h5     candidate shards (+ candidates.json)

#include <xxhash.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <nlohmann/json.hpp>

#include "command.h"
#include "inputs.h"
#include "stage_common.h"
#include "stage_rows.h"
#include "ntks/config/enums.h"
#include "ntks/features/feature_set.h"
#include "ntks/features/project.h"
#include "ntks/features/sample_grads.h"
#include "ntks/log/log.h"
#include "ntks/select/preselected.h"
#include "ntks/train/checkpoint.h"
#include "ntks/util/error.h"
#include "ntks/util/files.h"

namespace ntks::cli {
namespace {

namespace fs = std::filesystem;

nlohmann::json grads_stage(const config::Config& cfg) {
  nlohmann::json j = {{"name", "grads"},
                      {"output", less_method(cfg) ? "loss" : config::to_string(cfg.grads.output)},
                      {"dim", cfg.grads.dim},
                      {"seed", cfg.grads.seed},
                      {"projection", config::to_string(cfg.grads.projection)},
                      {"sparsity", cfg.grads.sparsity},
                      {"scale", cfg.grads.scale}};
  // LESS: Adam directions for the candidates, SGD gradients for the domain.
  if (less_method(cfg)) j["less"] = {{"candidates", "adam"}, {"domain", "sgd"}};
  return j;
}

// The Adam state the LESS warm-up left beside its adapter, flattened in the
// gradient layout.
features::AdamPreconditioner less_preconditioner(const StageSetup& s) {
  const fs::path info = fs::path(s.adapter) / "warmup.json";
  const fs::path state = fs::path(s.adapter) / "optimizer.safetensors";
  std::string trained_on;
  if (fs::exists(info)) trained_on = nlohmann::json::parse(read_file(info.string())).value("trained_on", "");
  if (trained_on != "candidates" || !fs::exists(state))
    throw InputError(fmt::format("select.method less needs the LESS warm-up (trained on a sample of the candidates, "
                                 "with its optimizer state), but {} {}: run `ntk-select warmup --set "
                                 "select.method=less` first (`ntk-select run` does)",
                                 s.adapter,
                                 trained_on.empty() ? "has no warmup.json or optimizer.safetensors"
                                                    : "was trained on the " + trained_on + " set"));
  train::Checkpoint c;
  c.folder = s.adapter;
  const train::ResumeState r = train::read_resume_state(c, s.dec.lora_parameter_names(), s.dec.lora_parameters());
  std::vector<at::Tensor> m, v;
  for (size_t i = 0; i < r.m.size(); ++i) {
    m.push_back(r.m[i].reshape({-1}));
    v.push_back(r.v[i].reshape({-1}));
  }
  features::AdamPreconditioner p;
  p.m = torch::cat(m).to(s.dec.device(), at::kFloat);
  p.v = torch::cat(v).to(s.dec.device(), at::kFloat);
  return p;
}

// The candidates of an --ids-file (ascending record indices).
std::vector<int64_t> ids_file_records(const std::string& path, const data::CorpusIndex& index) {
  std::vector<int64_t> records;
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("{}: cannot be read", path));
  std::string line;
  for (int64_t n = 1; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const auto found = index.find(line);
    if (!found) throw InputError(fmt::format("{}:{}: no candidate has the id '{}'", path, n, line));
    records.push_back(*found);
  }
  std::sort(records.begin(), records.end());
  const auto dup = std::adjacent_find(records.begin(), records.end());
  if (dup != records.end()) throw InputError(fmt::format("{}: {} is listed twice", path, index.id(*dup)));
  return records;
}

// The candidates of a pre-selection file (RUN/preselect/preselected.h5),
// ascending. Each record must be in the corpus and still carry the id the
// file names: a corpus edited since the pre-selection would otherwise give
// other samples' gradients under the listed ids.
std::vector<int64_t> preselected_records(const std::string& path, const data::CorpusIndex& index) {
  const select::Preselected p = select::read_preselected(path);
  for (size_t i = 0; i < p.records.size(); ++i) {
    if (p.records[i] >= index.size())
      throw InputError(fmt::format("{}: records[{}] = {} is not a candidate (the candidates have {} records); was "
                                   "it made from another data.candidates?",
                                   path, i, p.records[i], index.size()));
    const std::string id = index.id(p.records[i]);
    if (id != p.ids[i])
      throw InputError(fmt::format("{}: records[{}] = {} is '{}' in the candidates ({}), but the file names it '{}'; "
                                   "the corpus changed since the pre-selection (run `ntk-select preselect` again)",
                                   path, i, p.records[i], id, index.where(p.records[i]), p.ids[i]));
  }
  std::vector<int64_t> records = p.records;  // best first in the file; rows go in record order
  std::sort(records.begin(), records.end());
  return records;
}

// The candidates to compute: those of --ids-file or --preselected, else every
// candidate. `list` gets what the stage metadata records about the list.
std::vector<int64_t> candidate_records(Context& ctx, const data::CorpusIndex& index, nlohmann::json& list) {
  std::vector<int64_t> records;
  std::string option;
  for (const char* o : {"ids-file", "preselected"})
    if (ctx.args.count(o)) option = o;
  if (option.empty()) {
    records.resize(static_cast<size_t>(index.size()));
    std::iota(records.begin(), records.end(), int64_t{0});
    return records;
  }
  const std::string path = ctx.args[option].as<std::string>();
  records = option == "ids-file" ? ids_file_records(path, index) : preselected_records(path, index);
  // The list's content, not only its name: a rewritten file with other
  // records must not be taken for the one a complete shard was made from.
  list = {{"path", fs::absolute(path).string()},
          {"records", records.size()},
          {"records_xxh3", fmt::format("{:016x}", XXH3_64bits(records.data(), records.size() * sizeof(int64_t)))}};
  log::info0("candidates: {} of {} records from {} {}", records.size(), index.size(), option == "ids-file" ? "--ids-file" : "--preselected", path);
  return records;
}

void grads_candidates(Context& ctx, StageSetup& s, const std::string& dir, const features::Projector* projector,
                      int64_t dim, const features::AdamPreconditioner* precondition) {
  const config::Config& cfg = ctx.cfg;
  const auto& a = ctx.args;
  const auto files = candidate_files(cfg);
  data::IndexOptions io;
  io.id_field = cfg.data.fields.id;
  const auto index = data::CorpusIndex::open_shared(files, io, ctx.comm);
  nlohmann::json list;
  const std::vector<int64_t> all = candidate_records(ctx, index, list);
  nlohmann::json extra = grads_stage(cfg);
  if (a.count("ids-file")) extra["ids"] = list;
  if (a.count("preselected")) extra["preselected"] = list;
  const std::string metadata = stage_metadata(cfg, s, files, extra);
  const auto [shard, total] = candidate_shard(ctx);
  const auto n = static_cast<int64_t>(all.size());
  const data::Range mine =
      stage_shard(cfg, "grads", index, n, [&](int64_t p) { return all[static_cast<size_t>(p)]; }, shard, total);
  const std::string out = features::shard_file(dir, "candidates", shard, total);
  const std::string skip = (fs::path(dir) / fmt::format("skipped-candidates-{:05d}-of-{:05d}.jsonl", shard, total)).string();
  log::info("candidates: shard {} of {}: {} of {} candidates", shard, total, mine.size(), all.size());
  features::FeatureJob job = make_job(cfg, "grads", out, skip, "grads", metadata, dim,
                                      std::vector<int64_t>(all.begin() + mine.begin, all.begin() + mine.end),
                                      mine.begin, n, "grads candidates");
  add_forecast(job, cfg, "grads", static_cast<int64_t>(all.size()), total);
  run_job(ctx, s, "grads", std::move(job), index, grads_rows(cfg, s, projector, precondition));
  ctx.comm.barrier();
  if (ctx.comm.is_root() && features::write_feature_set_index(dir, "candidates", total))
    log::info("{}/candidates.json: all {} shards complete", dir, total);
}

void write_domain_mean(const config::Config& cfg, const std::string& dir, const cli::DomainRows& d, int64_t dim,
                       const std::string& metadata) {
  if (d.rows == 0) throw InputError("the domain set has no usable sample: no domain gradient to compare with");
  const at::Tensor mean = (d.sum / static_cast<double>(d.rows)).to(at::kFloat).contiguous();
  store::FeatureFileSpec spec;
  spec.dim = dim;
  spec.dtype = cfg.store.dtype == config::StoreDType::fp16 ? store::ElementType::f16 : store::ElementType::f32;
  spec.kind = "grads_domain_mean";
  spec.metadata_json = metadata;
  auto w = store::FeatureWriter::create((fs::path(dir) / "domain_mean.h5").string(), spec);
  const uint64_t key = 0;
  const int64_t index = -1, samples = d.rows;  // "tokens" holds the number of samples averaged
  w.append(mean.data_ptr<float>(), 1, &key, {"domain_mean"}, &index, &samples);
  w.finalize();
}

int grads_main(Context& ctx) {
  const auto& a = ctx.args;
  const std::string which = a["which"].as<std::string>();
  if (which != "domain" && which != "candidates" && which != "all")
    throw UsageError(fmt::format("--which {}: expected domain, candidates or all", which));
  if (a.count("shard") != a.count("num-shards")) throw UsageError("--shard and --num-shards go together");
  if (a.count("ids-file") && which == "domain") throw UsageError("--ids-file selects candidates: not with --which domain");
  if (a.count("preselected") && which == "domain")
    throw UsageError("--preselected selects candidates: not with --which domain");
  if (a.count("ids-file") && a.count("preselected"))
    throw UsageError("--ids-file and --preselected both choose the candidates: give one of them");
  const config::Config& cfg = ctx.cfg;
  if (cfg.store.block_rows < 1) throw ConfigError("store.block_rows must be at least 1");
  if (cfg.grads.dim < 0) throw ConfigError("grads.dim must be >= 0 (0: the unprojected gradient)");
  if (cfg.grads.batch_size < 1) throw ConfigError("grads.batch_size must be at least 1");
  log::StageScope stage("grads");
  StageSetup s = load_stage(ctx);
  if (!s.dec.has_lora()) throw UsageError("grads needs a LoRA adapter: --adapter none has no LoRA parameters");
  std::optional<features::Projector> projector;
  if (cfg.grads.dim > 0) projector.emplace(cfg.grads, cfg.grads.dim);
  const int64_t dim = cfg.grads.dim > 0 ? cfg.grads.dim : features::lora_parameter_count(s.dec);
  const features::Projector* p = projector ? &*projector : nullptr;
  const std::string dir = (fs::path(cfg.run.dir) / "grads").string();
  fs::create_directories(dir);
  if (which != "candidates") {
    const nlohmann::json extra = grads_stage(cfg);
    const DomainRows d = domain_rows(ctx, s, dir, "grads", dim, extra, grads_rows(cfg, s, p));
    if (ctx.comm.is_root()) write_domain_mean(cfg, dir, d, dim, stage_metadata(cfg, s, domain_files(cfg), extra));
    log::info0("{}/domain_mean.h5: mean of {} domain gradients (d = {})", dir, d.rows, dim);
    ctx.comm.barrier();
  }
  std::optional<features::AdamPreconditioner> adam;
  if (which != "domain" && less_method(cfg)) adam = less_preconditioner(s);
  if (which != "domain") grads_candidates(ctx, s, dir, p, dim, adam ? &*adam : nullptr);
  return 0;
}

}  // namespace

Command grads_command() {
  Command c;
  c.name = "grads";
  c.computes = true;
  c.summary = "projected per-sample LoRA gradients of the domain set (and their mean) and of candidates";
  c.description =
      "For every sample: the gradient of f(x) with respect to the LoRA parameters of the warmed-up\n"
      "adapter (RUN/warmup), f the sum of all logits over the rows that predict response tokens\n"
      "divided by their number (grads.output: logit_sum), or the mean log-likelihood of the\n"
      "response (log_likelihood), times grads.scale; projected to grads.dim columns by the random\n"
      "matrix of grads.projection generated from grads.seed: the paper's dense Rademacher matrix, or\n"
      "sparse, a sparse JL transform with grads.sparsity nonzeros per gradient coordinate (the same\n"
      "kernel in expectation, a fraction of the cost; grads.dim 0: the unprojected gradient, layer-major, modules\n"
      "q k v o gate up down, lora_A before lora_B, row-major). Whole batches of grads.batch_size\n"
      "samples at once, one backward pass each. Outputs (RUN = run.dir): RUN/grads/domain.h5,\n"
      "RUN/grads/domain_mean.h5 (their mean, summed over ranks by allreduce),\n"
      "RUN/grads/candidates-IIIII-of-NNNNN.h5 and candidates.json. The candidates: all records of\n"
      "data.candidates, or those of --preselected (the pre-selection file) or --ids-file, in record\n"
      "order; the list's path and a hash of its records go into the files' metadata. Candidates and\n"
      "domain set are cut into groups (store.group_rows; auto: whole blocks for long lists, as few\n"
      "as 16 records or grads.batch_size for short ones), batched within a group after sorting by\n"
      "length, and each shard (rank x array task) gets a contiguous run of whole groups balanced by\n"
      "estimated work (the records' byte lengths in the corpus index, a stand-in for their token\n"
      "counts), so the rows never depend on the number of shards. Committed per block of\n"
      "store.block_rows, resumable after the last group committed; files complete with the same\n"
      "inputs are kept.\n"
      "With select.method less (LESS): gradients of the loss (the mean NLL of the response), the\n"
      "candidates' turned into Adam directions with the warm-up's optimizer state\n"
      "(RUN/warmup/optimizer.safetensors): (b1 m + (1-b1) g) / sqrt(b2 v + (1-b2) g^2 + 1e-8), as LESS\n"
      "computes them; the domain's plain (SGD) gradients.";
  c.options = [](po::options_description& o) {
    o.add_options()
        ("which", po::value<std::string>()->default_value("all"), "domain, candidates or all")
        ("ids-file", po::value<std::string>(),
         "candidates: only these ids (one per line: id field values or path:line)")
        ("preselected", po::value<std::string>(),
         "candidates: only the records of this pre-selection file (RUN/preselect/preselected.h5 of "
         "`ntk-select preselect`); each must still carry the id the file names. Not with --ids-file")
        ("shard", po::value<int>(), "candidates: this array task's shard I (0-based) of --num-shards")
        ("num-shards", po::value<int>(), "candidates: number of array tasks")
        ("adapter", po::value<std::string>()->default_value(""),
         "PEFT adapter folder; default RUN/warmup");
    add_reuse_option(o);
  };
  c.run = grads_main;
  return c;
}

}  // namespace ntks::cli
