// `ntk-select warmup` (DESIGN §2 step 1): LoRA training on the domain set,
// data parallel over the ranks; writes the PEFT adapter, the per-step log and
// the skipped lines to RUN/warmup/.

#include <torch/torch.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "command.h"
#include "inputs.h"
#include "ntks/config/enums.h"
#include "ntks/data/corpus_index.h"
#include "ntks/data/sample_reader.h"
#include "ntks/log/log.h"
#include "ntks/log/progress.h"
#include "ntks/model/adapter.h"
#include "ntks/model/decoder.h"
#include "ntks/model/device.h"
#include "ntks/tokenizer/tokenizer.h"
#include "ntks/train/trainer.h"
#include "ntks/util/error.h"

namespace ntks::cli {
namespace {

namespace fs = std::filesystem;

// The domain set travels from rank 0 to the others as bytes: one reader (one
// skip log, one set of warnings) and identical samples everywhere by construction.
template <class T>
void put(std::string& out, const T& v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}
template <class T>
T get(const std::string& in, size_t& at) {
  NTKS_CHECK(at + sizeof(T) <= in.size(), "truncated sample buffer");
  T v;
  std::memcpy(&v, in.data() + at, sizeof(T));
  at += sizeof(T);
  return v;
}

std::string pack(const std::vector<data::Sample>& samples) {
  std::string out;
  put<uint64_t>(out, samples.size());
  for (const auto& s : samples) {
    put(out, s.index);
    put<uint64_t>(out, s.ids.size());
    out.append(reinterpret_cast<const char*>(s.ids.data()), s.ids.size() * sizeof(int32_t));
    out.append(reinterpret_cast<const char*>(s.response_mask.data()), s.response_mask.size());
  }
  return out;
}

std::vector<data::Sample> unpack(const std::string& in) {
  size_t at = 0;
  std::vector<data::Sample> samples(get<uint64_t>(in, at));
  for (auto& s : samples) {
    s.index = get<int64_t>(in, at);
    const auto n = get<uint64_t>(in, at);
    NTKS_CHECK(at + n * (sizeof(int32_t) + 1) <= in.size(), "truncated sample buffer");
    s.ids.resize(n);
    std::memcpy(s.ids.data(), in.data() + at, n * sizeof(int32_t));
    at += n * sizeof(int32_t);
    s.response_mask.assign(in.begin() + static_cast<std::ptrdiff_t>(at), in.begin() + static_cast<std::ptrdiff_t>(at + n));
    at += n;
  }
  return samples;
}

/// Rank 0 reads the domain set (skip log in `folder`); every rank gets the samples.
std::vector<data::Sample> read_domain(Context& ctx, const std::string& folder, int64_t vocab) {
  data::IndexOptions io;
  io.id_field = ctx.cfg.data.fields.id;
  const std::vector<std::string> files = domain_files(ctx.cfg);
  const data::CorpusIndex index = data::CorpusIndex::open_shared(files, io, ctx.comm);
  std::string bytes;
  if (ctx.comm.is_root()) {
    const auto tok = tokenizer::Tokenizer::load(tokenizer_file(ctx.cfg));
    data::SkipLog skip_log((fs::path(folder) / "skipped.jsonl").string());
    data::SampleReader reader(index, ctx.cfg, tok, &skip_log);
    std::vector<data::Sample> samples;
    reader.read(data::Range{0, index.size()}, [&](data::Sample&& s) {
      for (int32_t id : s.ids)
        if (id < 0 || id >= vocab)
          throw InputError(fmt::format("{}: token id {} from {} is outside the model's vocabulary of {} (model.path {})",
                                       index.where(s.index), id, tokenizer_file(ctx.cfg), vocab, ctx.cfg.model.path));
      samples.push_back(std::move(s));
    });
    skip_log.close();
    log::info("domain: {}", reader.stats().summary());
    if (reader.stats().skipped + reader.stats().dropped > 0)
      log::warn("domain: {} line(s) skipped or dropped: see {}", reader.stats().skipped + reader.stats().dropped,
                skip_log.path());
    bytes = pack(samples);
  }
  ctx.comm.broadcast_bytes(bytes, 0);
  return unpack(bytes);
}

model::LoraSpec lora_spec(const config::LoraConfig& c) {
  model::LoraSpec spec;
  spec.r = c.r;
  spec.alpha = c.alpha;
  spec.dropout = c.dropout;
  spec.targets = c.targets;
  return spec;
}

int run(Context& ctx) {
  const config::Config& cfg = ctx.cfg;
  if (cfg.model.path.empty()) throw ConfigError("model.path is not set: warmup needs the base model folder");
  const fs::path run_dir(cfg.run.dir);
  const fs::path final_dir = run_dir / "warmup";
  // Everything is written here first and renamed at the end, so a folder
  // named warmup/ is always a finished one.
  const fs::path work_dir = run_dir / "warmup.partial";
  if (ctx.comm.is_root()) {
    fs::remove_all(work_dir);
    fs::create_directories(work_dir);
  }

  const at::Device device = model::choose_device(cfg.model.device, ctx.comm.local_rank());
  const at::ScalarType dtype = model::compute_dtype(cfg.model.dtype);
  model::require_matmul_support(dtype, device);
  model::Decoder decoder = model::Decoder::load(cfg.model.path, dtype, device);
  const std::vector<data::Sample> samples = read_domain(ctx, work_dir.string(), decoder.config().vocab_size);
  decoder.add_lora(lora_spec(cfg.lora), static_cast<uint64_t>(cfg.run.seed));
  log::info0("model {} ({}, {} layers, {} on {}), LoRA r={} alpha={} dropout={} on {} module type(s)",
             cfg.model.path, decoder.config().architecture, decoder.config().num_layers, config::to_string(cfg.model.dtype),
             device.str(), cfg.lora.r, cfg.lora.alpha, cfg.lora.dropout, cfg.lora.targets.size());

  std::ofstream train_log;
  if (ctx.comm.is_root()) {
    const fs::path p = work_dir / "train_log.jsonl";
    train_log.open(p, std::ios::binary | std::ios::trunc);
    if (!train_log) throw InputError(fmt::format("{}: cannot be written", p.string()));
  }
  const train::TrainOptions options = train::TrainOptions::from_config(cfg);
  const train::TrainResult result = train::train_lora(decoder, samples, options, ctx.comm, [&](const train::StepLog& s) {
    if (!train_log.is_open()) return;
    const nlohmann::json j = {{"step", s.step}, {"epoch", s.epoch},         {"lr", s.lr},
                              {"loss", s.loss}, {"grad_norm", s.grad_norm}, {"samples", s.samples}};
    train_log << j.dump() << '\n';
    train_log.flush();
  });

  if (ctx.comm.is_root()) {
    train_log.close();
    if (!train_log) throw InputError(fmt::format("{}: write failed", (work_dir / "train_log.jsonl").string()));
    model::save_adapter(decoder, work_dir.string(), cfg.model.path);
    fs::remove_all(final_dir);
    fs::rename(work_dir, final_dir);
    std::cout << fmt::format("warmup: {} samples, {} epoch(s), {} step(s) on {} rank(s), loss {:.4f} -> {:.4f}, "
                             "{:.1f}s; adapter in {}",
                             samples.size(), options.epochs, result.steps, ctx.comm.size(), result.first_loss,
                             result.last_loss, result.seconds, final_dir.string())
              << std::endl;
  }
  ctx.comm.barrier();
  return 0;
}

}  // namespace

Command warmup_command() {
  Command c;
  c.name = "warmup";
  c.summary = "LoRA-train the model on the domain set (step 1); writes the PEFT adapter to RUN/warmup/";
  c.description =
      "Trains a fresh LoRA adapter (lora.r, lora.alpha, lora.dropout, lora.targets; initialised\n"
      "from run.seed) on the domain set (data.domain) for warmup.epochs epochs: AdamW (warmup.lr,\n"
      "warmup.weight_decay), warmup.schedule after a linear warm-up of ceil(warmup.warmup_ratio x\n"
      "steps) steps, gradient clipping at warmup.max_grad_norm. The loss of a sample is the mean\n"
      "negative log-likelihood of its response tokens; a step's loss is the mean over its samples.\n"
      "One optimizer step uses warmup.batch_size x warmup.grad_accum samples in total, however\n"
      "many ranks run (under mpirun the step's samples are dealt to the ranks and gradients are\n"
      "summed by allreduce, so every rank holds the same weights); the last step of an epoch takes\n"
      "the samples left over. The epoch order is shuffled with run.seed. With lora.dropout > 0 the\n"
      "masks are reproducible for a given seed and rank count but differ between rank counts.\n\n"
      "Writes RUN/warmup/ (RUN = run.dir), built as RUN/warmup.partial/ and renamed when complete:\n"
      "  adapter_config.json, adapter_model.safetensors   the PEFT adapter (loads in HF PEFT)\n"
      "  train_log.jsonl   one line per step: step, epoch, lr, loss, grad_norm, samples\n"
      "  skipped.jsonl     domain lines that did not become samples (data.on_error: skip)\n"
      "and prints a one-line summary on stdout.";
  c.run = run;
  return c;
}

}  // namespace ntks::cli
