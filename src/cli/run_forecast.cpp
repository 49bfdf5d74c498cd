// run --dry-run: rates of the model stages on a short sample, extrapolated to
// the whole run (features/forecast.h).

#include "run_forecast.h"

#include <chrono>
#include <filesystem>
#include <iostream>

#include "inputs.h"
#include "stage_common.h"
#include "stage_rows.h"
#include "pipeline/stage_spec.h"
#include "ntks/config/enums.h"
#include "ntks/dist/communicator.h"
#include "ntks/features/forecast.h"
#include "ntks/log/log.h"
#include "ntks/pipeline/stage.h"
#include "ntks/train/trainer.h"
#include "ntks/util/error.h"

namespace ntks::cli {
namespace {

namespace fs = std::filesystem;

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Seconds of `fn` on every rank at once; the slowest rank's time, since a
// stage ends when its last rank does.
template <class Fn>
double timed(dist::Communicator& comm, Fn&& fn) {
  comm.barrier();
  const double t0 = now();
  fn();
  at::Tensor t = at::tensor({now() - t0}, at::kDouble);
  comm.allreduce(t, dist::ReduceOp::max);
  return t.item<double>();
}

// `k` candidates at evenly spaced positions of the corpus (long and short
// lines, early and late files alike), as samples.
std::vector<data::Sample> spread_sample(const data::CorpusIndex& index, const config::Config& cfg,
                                        const tokenizer::Tokenizer& tok, int64_t k) {
  std::vector<int64_t> records;
  for (int64_t i = 0; i < k; ++i) records.push_back(i * index.size() / k);
  records.erase(std::unique(records.begin(), records.end()), records.end());
  std::vector<data::Sample> samples;
  data::SampleReader reader(index, cfg, tok, nullptr);
  reader.read(records, [&](data::Sample&& s) { samples.push_back(std::move(s)); });
  if (samples.empty())
    throw InputError(fmt::format("run --dry-run: none of the {} sampled candidates became a sample", records.size()));
  return samples;
}

int64_t record_count(const std::vector<std::string>& files, const config::Config& cfg, dist::Communicator& comm) {
  data::IndexOptions io;
  io.id_field = cfg.data.fields.id;
  return data::CorpusIndex::open_shared(files, io, comm).size();
}

bool used(const config::Config& cfg, const char* stage) { return pipeline::detail::stage_spec(cfg, stage).used; }

}  // namespace

int dry_run_forecast(Context& ctx, int64_t k) {
  const config::Config& cfg = ctx.cfg;
  dist::Communicator& comm = ctx.comm;
  if (k < 2) throw UsageError(fmt::format("--dry-run-samples {}: at least 2", k));
  const int ranks = comm.size();
  data::IndexOptions io;
  io.id_field = cfg.data.fields.id;
  const auto index = data::CorpusIndex::open_shared(candidate_files(cfg), io, comm);
  const int64_t candidates = index.size();
  const bool less = less_method(cfg);
  const int64_t domain = less ? 0 : record_count(domain_files(cfg), cfg, comm);
  std::vector<features::StageForecast> rows;
  int64_t hidden = 0;
  const auto add = [&](const char* stage, std::string work, int64_t samples, int64_t measured, double seconds) {
    features::StageForecast f;
    f.stage = stage;
    f.work = std::move(work);
    f.samples = samples;
    f.rate = static_cast<double>(measured) / std::max(seconds, 1e-9);
    f.ranks = ranks;
    f.basis = fmt::format("{} samples in {:.2f}s", measured, seconds);
    rows.push_back(f);
  };

  if (used(cfg, "warmup") || used(cfg, "embed") || used(cfg, "grads")) {
    StageSetup s = load_stage(ctx, "none");
    s.dec.add_lora(train::lora_spec(cfg.lora), static_cast<uint64_t>(cfg.run.seed));
    hidden = s.dec.config().hidden_size;
    const std::vector<data::Sample> sample = spread_sample(index, cfg, s.tok, k);
    const auto n = static_cast<int64_t>(sample.size());
    // One untimed call first: allocator, thread pool and kernel caches warm up.
    const std::vector<data::Sample> first(sample.begin(), sample.begin() + std::min<int64_t>(2, n));
    if (used(cfg, "embed")) {
      const features::ComputeRows embed = embed_rows(cfg, s);
      embed(first);
      add("embed", "candidates + domain", candidates + domain, n, timed(comm, [&] { embed(sample); }));
      rows.back().parallel = features::parallel_ranks(
          {{candidates, stage_group_rows(cfg, "embed", candidates)}, {domain, stage_group_rows(cfg, "embed", domain)}},
          ranks);
    }
    if (used(cfg, "grads")) {
      std::optional<features::Projector> projector;
      if (cfg.grads.dim > 0) projector.emplace(cfg.grads, cfg.grads.dim);
      const features::ComputeRows grads = grads_rows(cfg, s, projector ? &*projector : nullptr);
      grads(first);
      const int64_t m = less ? candidates : std::min(candidates, config::preselect_size(cfg));
      add("grads", less ? "every candidate + domain" : "pre-selected m + domain", m + domain, n,
          timed(comm, [&] { grads(sample); }));
      rows.back().parallel = features::parallel_ranks(
          {{m, stage_group_rows(cfg, "grads", m)}, {domain, stage_group_rows(cfg, "grads", domain)}}, ranks);
    }
    if (used(cfg, "warmup")) {
      // One epoch over the sample with the warm-up's own settings (each rank
      // its share, as in the warm-up); the stage trains epochs x its set.
      train::TrainOptions o = train::TrainOptions::from_config(cfg);
      o.epochs = 1;
      const int64_t set = less ? std::min(candidates, cfg.less.warmup_samples) : domain;
      const double t = timed(comm, [&] { train::train_lora(s.dec, sample, o, comm); });
      add("warmup", fmt::format("{} epoch(s) x {} {}", cfg.warmup.epochs, set, less ? "candidates" : "domain samples"),
          cfg.warmup.epochs * set, n, t);
      // Data-parallel: the measured time was for the whole sample over all ranks.
      rows.back().rate /= ranks;
    }
  }
  if (used(cfg, "preselect")) {
    // The exact search is one [domain x h] x [h x candidates] product; timed
    // on 4096 random candidates and scaled (IVF searches a fraction of it).
    const int64_t h = hidden, cols = 4096;
    const at::Tensor q = at::randn({std::max<int64_t>(domain, 1), h}), c = at::randn({h, cols});
    at::mm(q, c);
    const double t = timed(comm, [&] { at::mm(q, c); });
    add("preselect", fmt::format("kNN of {} domain points (flat search, h = {})", domain, h), candidates, cols,
        t);
  }
  std::stable_sort(rows.begin(), rows.end(), [](const auto& x, const auto& y) {
    return pipeline::stage_index(x.stage, "stage") < pipeline::stage_index(y.stage, "stage");
  });
  if (rows.empty()) {
    log::info0("run --dry-run: select.method {} runs no model stage: only score and select, which cost little",
               config::to_string(cfg.select.method));
    return 0;
  }
  if (comm.is_root()) {
    const fs::path dir = fs::path(cfg.run.dir) / "forecast";
    fs::create_directories(dir);
    features::write_forecast_json((dir / "dry-run.json").string(), rows, fmt::format("run --dry-run, {} sampled candidates", k));
    std::cout << fmt::format("run --dry-run: forecast for {} candidates and {} domain samples on {} rank(s), "
                             "select.method {} (score and select cost little)\n",
                             candidates, domain, ranks, config::to_string(cfg.select.method))
              << features::forecast_table(rows) << fmt::format("written to {}\n", (dir / "dry-run.json").string());
  }
  return 0;
}

}  // namespace ntks::cli
