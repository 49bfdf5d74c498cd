// `ntk-select bench`: throughput figures as fractions of this machine's GEMM peak.

#include <exception>
#include <iostream>

#include "command.h"
#include "inputs.h"
#include "ntks/bench/bench.h"
#include "ntks/bench/grads_bench.h"
#include "ntks/bench/pretrain_bench.h"
#include "ntks/config/enums.h"
#include "ntks/features/embed.h"
#include "ntks/log/log.h"
#include "ntks/model/device.h"
#include "ntks/util/blas_kernels.h"
#include "ntks/util/error.h"
#include "ntks/util/strings.h"

namespace ntks::cli {
namespace {

void bench_forward(Context& ctx, at::Device device, at::ScalarType dtype) {
  const auto& a = ctx.args;
  bench::ForwardBenchOptions o;
  o.layers = a["layers"].as<int64_t>();
  o.hidden = a["hidden"].as<int64_t>();
  o.intermediate = a["intermediate"].as<int64_t>();
  o.heads = a["heads"].as<int64_t>();
  o.kv_heads = a["kv-heads"].as<int64_t>();
  o.vocab = a["vocab"].as<int64_t>();
  o.batch = a["batch"].as<int64_t>();
  o.seq_len = a["seq-len"].as<int64_t>();
  o.reps = a["reps"].as<int>();
  o.dtype = dtype;
  o.device = device;
  bench::ForwardBenchResult r = bench::forward_bench(o);
  std::cout << fmt::format(
      "forward: {:.1f}M-parameter llama ({} layers, hidden {}), {} x {} tokens per batch, {} on {}\n"
      "  {:.0f} tokens/s, {:.1f} GFLOP/s = {:.0f}% of this machine's {} GEMM peak ({:.1f} GFLOP/s at n={}), "
      "{} threads\n",
      r.params_millions, o.layers, o.hidden, o.batch, o.seq_len, c10::toString(dtype), device.str(), r.tokens_per_s,
      r.gflops, 100 * r.fraction_of_peak, c10::toString(dtype), r.peak.gflops, r.peak.n, at::get_num_threads());
}

// Ours against Hugging Face's tokenizers on the same documents, then ours on
// more threads.
void bench_tokenizer(Context& ctx) {
  const auto& a = ctx.args;
  bench::TokenizerBenchOptions o;
  o.tokenizer = a["tokenizer"].as<std::string>();
  if (o.tokenizer.empty()) o.tokenizer = ctx.cfg.model.tokenizer;
  if (o.tokenizer.empty() && !ctx.cfg.model.path.empty()) o.tokenizer = ctx.cfg.model.path + "/tokenizer.json";
  if (o.tokenizer.empty())
    throw UsageError("--what tokenizer needs --tokenizer FILE (or model.tokenizer or model.path in the config)");
  o.text = a["text"].as<std::string>();
  const double mb = a["text-mb"].as<double>();
  if (!(mb > 0)) throw UsageError("--text-mb must be > 0");
  o.generated_bytes = static_cast<size_t>(mb * 1e6);
  o.threads.clear();
  for (const std::string& t : split(a["threads-list"].as<std::string>(), ',')) {
    int n = 0;
    try {
      size_t used = 0;
      n = std::stoi(t, &used);
      if (used != t.size()) n = 0;
    } catch (const std::exception&) {
      n = 0;
    }
    if (n < 1) throw UsageError(fmt::format("--threads-list '{}': expected positive integers such as 1,2,4", t));
    o.threads.push_back(n);
  }
  o.reps = a["reps"].as<int>();
  if (o.reps < 1) throw UsageError("--reps must be >= 1");
  o.add_special_tokens = !a.count("no-special-tokens");
  o.hf_script = a.count("no-hf") ? "" : a["hf-script"].as<std::string>();
  o.node = a["node"].as<std::string>();
  bench::TokenizerBenchResult r = bench::tokenizer_bench(o);

  std::cout << fmt::format(
      "tokenizer: {}\n  text: {} documents, {:.2f} MB, {} tokens (ours, add_special_tokens={}); {}\n", o.tokenizer,
      r.documents, static_cast<double>(r.bytes) / 1e6, r.tokens, o.add_special_tokens, r.text_source);
  const bench::TokenizerRate* one = nullptr;
  for (const auto& rate : r.ours)
    if (rate.threads == 1) one = &rate;
  if (r.hf_ran) {
    std::cout << fmt::format("  hf   1 thread : {:8.2f} MB/s {:11.0f} tokens/s  ({})\n", r.hf.mb_per_s,
                             r.hf.tokens_per_s, r.hf_note);
  } else {
    std::cout << "  " << r.hf_note << "\n";
  }
  for (const auto& rate : r.ours) {
    std::string extra = fmt::format("cpu {:.3f} s over {:.3f} s wall", rate.cpu_seconds, rate.seconds);
    if (one && rate.threads > 1)
      extra += fmt::format(", {:.2f}x the 1-thread rate, {:.0f}% CPU efficiency", rate.mb_per_s / one->mb_per_s,
                           100 * one->cpu_seconds / rate.cpu_seconds);
    if (r.hf_ran && rate.threads == 1) extra += fmt::format(", {:.2f}x Hugging Face", rate.mb_per_s / r.hf.mb_per_s);
    std::cout << fmt::format("  ours {} thread{}: {:8.2f} MB/s {:11.0f} tokens/s  ({})\n", rate.threads,
                             rate.threads == 1 ? " " : "s", rate.mb_per_s, rate.tokens_per_s, extra);
  }
  if (r.hf_ran) {
    if (r.hf_tokens != r.tokens)
      throw InternalError(fmt::format("tokenizer bench: Hugging Face made {} tokens and we made {} on the same "
                                      "text, so some ids differ (tests/tokenizer/make_golden.js makes goldens)",
                                      r.hf_tokens, r.tokens));
    std::cout << fmt::format("  token counts agree: {} both\n", r.tokens);
  }
}

// The model shape options override a bench's own default model (the grads
// and embed benches': ~32M parameters) only when given.
bool given(const po::variables_map& a, const char* name) { return !a[name].defaulted(); }
template <class Options>
void override_shape(const po::variables_map& a, Options& o) {
  if (given(a, "layers")) o.layers = a["layers"].as<int64_t>();
  if (given(a, "hidden")) o.hidden = a["hidden"].as<int64_t>();
  if (given(a, "intermediate")) o.intermediate = a["intermediate"].as<int64_t>();
  if (given(a, "heads")) o.heads = a["heads"].as<int64_t>();
  if (given(a, "kv-heads")) o.kv_heads = a["kv-heads"].as<int64_t>();
  if (given(a, "vocab")) o.vocab = a["vocab"].as<int64_t>();
  if (given(a, "reps")) o.reps = a["reps"].as<int>();
}

// Defaults are the grads bench's own (a ~32M-parameter llama, 8 x 256 tokens).
void bench_grads(Context& ctx, at::Device device, at::ScalarType dtype) {
  const auto& a = ctx.args;
  bench::GradsBenchOptions o;
  override_shape(a, o);
  if (given(a, "batch")) o.batch = a["batch"].as<int64_t>();
  if (given(a, "seq-len")) o.seq_len = a["seq-len"].as<int64_t>();
  o.lora_r = a["lora-r"].as<int64_t>();
  o.dim = a["dim"].as<int64_t>();
  o.sparsity = a["sparsity"].as<int64_t>();
  o.loop = a.count("no-loop") == 0;
  o.profile = a["profile"].as<std::string>();
  o.dtype = dtype;
  o.device = device;
  const bench::GradsBenchResult r = bench::grads_bench(o);
  std::cout << fmt::format(
      "grads: {:.1f}M-parameter llama, LoRA r={} ({} parameters), {} x {} tokens per batch, {} on {}, {} threads\n"
      "  batched per-sample gradients {:.3f} s/batch, {:.1f} GFLOP/s = {:.0f}% of the GEMM peak ({:.1f} GFLOP/s)\n",
      r.params_millions, o.lora_r, r.lora_params, o.batch, o.seq_len, c10::toString(dtype), device.str(),
      at::get_num_threads(), r.batched_s, r.gflops, 100 * r.fraction_of_peak, r.peak.gflops);
  if (o.loop)
    std::cout << fmt::format("  one-sample loop {:.3f} s/batch: batched is {:.2f}x faster (target >= 5x); "
                             "max relative difference {:.1e}\n",
                             r.loop_s, r.speedup, r.max_rel_diff);
  std::cout << fmt::format("  projected to d={}: {:.3f} s/batch, projection {:.3f} s = {:.1f}% of it (target <= 15%), "
                           "{:.1f} GFLOP/s; generating all signs once {:.3f} s; gradients + projection {:.0f}% of "
                           "the GEMM peak (target >= 45%)\n",
                           o.dim, r.projected_s, r.projection_s, 100 * r.projection_fraction, r.projection_gflops,
                           r.generation_s, 100 * r.projected_fraction);
  if (o.sparsity > 0)
    std::cout << fmt::format("  sparse JL projection (s={}): {:.3f} s/batch, projection {:.3f} s = {:.1f}% of it "
                             "(target <= 15%); gradients + projection {:.0f}% of the GEMM peak (target >= 45%)\n",
                             o.sparsity, r.sparse_projected_s, r.sparse_projection_s, 100 * r.sparse_fraction,
                             100 * r.sparse_projected_fraction);
  if (o.loop) {
    std::cout << fmt::format("  LESS-style loop (one sample at a time, each projected alone by a dense matrix "
                             "generated for it) >= {:.2f} s/batch: batched + dense {:.1f}x faster",
                             r.less_loop_s, r.less_speedup);
    if (o.sparsity > 0) std::cout << fmt::format(", batched + sparse {:.1f}x (target >= 40x)", r.less_speedup_sparse);
    std::cout << "\n";
  }
}

// Full-parameter training steps of the pretrain loop; defaults are the
// bench's own proxy-model shape (6 x 384, vocabulary 8192, 16 x 256 tokens).
void bench_pretrain(Context& ctx, at::Device device, at::ScalarType dtype) {
  const auto& a = ctx.args;
  bench::PretrainBenchOptions o;
  override_shape(a, o);
  if (given(a, "batch")) o.batch = a["batch"].as<int64_t>();
  if (given(a, "seq-len")) o.seq_len = a["seq-len"].as<int64_t>();
  o.dtype = dtype;
  o.device = device;
  const bench::PretrainBenchResult r = bench::pretrain_bench(o);
  std::cout << fmt::format(
      "pretrain: {:.1f}M-parameter llama ({} layers, hidden {}, vocabulary {}), {} x {} tokens per step, {} on {}, "
      "{} threads\n"
      "  {:.3f} s/step (median of {}), {:.0f} tokens/s, {:.1f} GFLOP/s = {:.0f}% of the GEMM peak ({:.1f} GFLOP/s) "
      "(target >= 50% at hidden >= 256)\n",
      r.params_millions, o.layers, o.hidden, o.vocab, o.batch, o.seq_len, c10::toString(dtype), device.str(),
      at::get_num_threads(), r.step_s, o.reps, r.tokens_per_s, r.gflops, 100 * r.fraction_of_peak, r.peak.gflops);
}

// The embed stage's forward (features::embed_samples) on samples of random
// lengths, batched by embed.batch_tokens of the config unless --batch-tokens.
void bench_embed(Context& ctx, at::Device device, at::ScalarType dtype) {
  const auto& a = ctx.args;
  bench::EmbedBenchOptions o;
  override_shape(a, o);
  o.samples = a["samples"].as<int64_t>();
  o.min_len = a["min-len"].as<int64_t>();
  if (given(a, "seq-len")) o.max_len = a["seq-len"].as<int64_t>();
  o.batch_tokens = features::embed_batch_tokens(
      a.count("batch-tokens") ? a["batch-tokens"].as<int64_t>() : ctx.cfg.embed.batch_tokens, device);
  o.profile = a["profile"].as<std::string>();
  o.dtype = dtype;
  o.device = device;
  const bench::EmbedBenchResult r = bench::embed_bench(o);
  std::cout << fmt::format(
      "embed: {:.1f}M-parameter llama, {} samples of {}..{} tokens in {} batches of <= {} padded tokens, {} on {}, "
      "{} threads\n"
      "  {:.3f} s: {:.1f} samples/s, {:.0f} tokens/s ({:.1f}% padding); {:.1f} GFLOP/s useful ({:.1f} executed) = "
      "{:.0f}% of the GEMM peak ({:.1f} GFLOP/s)\n",
      r.params_millions, o.samples, o.min_len, o.max_len, r.batches, o.batch_tokens, c10::toString(dtype),
      device.str(), at::get_num_threads(), r.seconds, r.samples_per_s, r.tokens_per_s, 100 * r.padding, r.gflops,
      r.executed_gflops, 100 * r.fraction_of_peak, r.peak.gflops);
}

int bench_main(Context& ctx) {
  const auto& a = ctx.args;
  if (!ctx.comm.is_root()) return 0;
  const config::DType dt = dtype_option("dtype", a["dtype"].as<std::string>());
  at::Device device = model::choose_device(ctx.cfg.model.device, ctx.comm.local_rank());
  at::ScalarType dtype = model::compute_dtype(dt);
  // The baseline of the fixed GEMM tiles: OpenBLAS threading each call itself.
  if (a.count("untiled")) util::set_tiled_blas(false);
  for (const std::string& what : split(a["what"].as<std::string>(), ',')) {
    if (what == "gemm") {
      bench::GemmPeak p = bench::gemm_peak(dtype, device);
      std::cout << fmt::format("gemm: {:.1f} GFLOP/s peak ({} on {}, n={}, {} threads; {})\n", p.gflops,
                               c10::toString(dtype), device.str(), p.n, at::get_num_threads(),
                               util::blas_kernels().describe());
      if (util::blas_calls_tiled()) {  // off under --untiled
        bench::GemmPeak t = bench::tiled_gemm_peak(dtype, device);
        std::cout << fmt::format("  in fixed tiles (every GEMM of the tool; thread-count invariant): {:.1f} GFLOP/s "
                                 "at n={} = {:.0f}% of the peak\n",
                                 t.gflops, t.n, 100 * t.gflops / p.gflops);
      }
    } else if (what == "forward") {
      bench_forward(ctx, device, dtype);
    } else if (what == "tokenizer") {
      bench_tokenizer(ctx);
    } else if (what == "grads") {
      bench_grads(ctx, device, dtype);
    } else if (what == "embed") {
      bench_embed(ctx, device, dtype);
    } else if (what == "pretrain") {
      bench_pretrain(ctx, device, dtype);
    } else {
      throw UsageError(fmt::format("--what '{}': expected gemm, forward, tokenizer, grads, embed or pretrain", what));
    }
  }
  return 0;
}

}  // namespace

Command bench_command() {
  Command c;
  c.name = "bench";
  c.computes = true;
  c.summary = "measure GEMM peak, model throughput (as a fraction of that peak) and tokenizer speed";
  c.description =
      "Each figure is reported with this machine's own GEMM peak in the same dtype, measured in\n"
      "the same process with the same threads, so it can be compared across machines.\n"
      "--what tokenizer times our tokenizer and Hugging Face's Rust tokenizers (npm package\n"
      "`tokenizers` run by node on one thread, bench/hf_tokenizer_bench.js) on the same documents\n"
      "in one run, checks that both made as many tokens, then times ours on --threads-list threads.\n"
      "Without --text the documents are generated (deterministic: English prose, code, numbers,\n"
      "CJK, Cyrillic, Arabic, accented Latin, emoji, runs of spaces and newlines). Each figure is\n"
      "the fastest of --reps passes. bench/tokenizer.sh fetches the files and the npm package.\n"
      "--what embed times the embed stage's forward (features::embed_samples: sorted by length,\n"
      "batched by a padded-token budget, masked mean of the final hidden state) on --samples\n"
      "samples of --min-len..--seq-len random tokens: samples/s, tokens/s, the padding share and\n"
      "GFLOP/s (useful: each sample at its own length) as a fraction of the GEMM peak.\n"
      "--what pretrain times optimizer steps of the pretraining loop (forward, backward, allreduce,\n"
      "clipping, AdamW over every weight) and counts 3 x the forward's matmul FLOPs, output layer\n"
      "included, per token.\n"
      "bench/feature_memory.sh measures the embed and grads stages' peak memory at N and 10N records.";
  c.options = [](po::options_description& o) {
    o.add_options()
        ("what", po::value<std::string>()->default_value("gemm,forward"), "comma-separated: gemm, forward, tokenizer, grads, embed, pretrain (grads: batched per-sample LoRA gradients vs a one-sample loop, and the projection share; embed: the embed stage's batched forward on samples of random lengths; the shape options override these two's ~32M-parameter default model; pretrain: full-parameter training steps of `ntk-select pretrain`, default model 6 x 384 with vocabulary 8192, 16 x 256 tokens a step)")
        ("dtype", po::value<std::string>()->default_value("fp32"), "bf16, fp16 or fp32")
        ("layers", po::value<int64_t>()->default_value(8), "forward: decoder layers")
        ("hidden", po::value<int64_t>()->default_value(512), "forward: hidden size")
        ("intermediate", po::value<int64_t>()->default_value(1408), "forward: MLP size")
        ("heads", po::value<int64_t>()->default_value(8), "forward: attention heads")
        ("kv-heads", po::value<int64_t>()->default_value(4), "forward: key/value heads")
        ("vocab", po::value<int64_t>()->default_value(32000), "forward: vocabulary (counts toward parameters)")
        ("batch", po::value<int64_t>()->default_value(4), "forward: sequences per batch")
        ("seq-len", po::value<int64_t>()->default_value(512),
         "forward: tokens per sequence; grads: tokens per sample (default 256); embed: longest sample (default 256)")
        ("reps", po::value<int>()->default_value(5), "forward, tokenizer: timed passes (grads, embed: default 3)")
        ("tokenizer", po::value<std::string>()->default_value(""),
         "tokenizer: tokenizer.json (default: model.tokenizer, else model.path/tokenizer.json)")
        ("text", po::value<std::string>()->default_value(""),
         "tokenizer: documents, the \"text\" of each line of a .jsonl or else each line (default: generated)")
        ("text-mb", po::value<double>()->default_value(8), "tokenizer: size of the generated text in MB")
        ("threads-list", po::value<std::string>()->default_value("1,2"), "tokenizer: our thread counts, e.g. 1,2,4")
        ("no-special-tokens", "tokenizer: encode with add_special_tokens false (both sides)")
        ("hf-script", po::value<std::string>()->default_value("bench/hf_tokenizer_bench.js"),
         "tokenizer: Hugging Face's side (run by node)")
        ("node", po::value<std::string>()->default_value("node"), "tokenizer: the Node.js binary")
        ("no-hf", "tokenizer: time ours only")
        ("lora-r", po::value<int64_t>()->default_value(8), "grads: LoRA rank on all seven projections")
        ("dim", po::value<int64_t>()->default_value(8192), "grads: projection dimension d")
        ("sparsity", po::value<int64_t>()->default_value(4), "grads: also time the sparse JL projection with this many nonzeros per gradient coordinate (grads.sparsity); 0: only the dense one")
        ("no-loop", "grads: skip the one-sample-at-a-time comparison")
        ("profile", po::value<std::string>()->default_value(""),
         "embed, grads: one more pass (grads: a dense projected step) under torch's profiler, its trace written "
         "to this file (Chrome trace format); bench/profile_summary.py sums it per operator")
        ("untiled", "run every GEMM as one OpenBLAS call threaded by OpenBLAS, not in the fixed tiles that make "
                    "results independent of the thread count (docs/architecture.md, \"BLAS kernels\"): what "
                    "the tiles cost")
        ("samples", po::value<int64_t>()->default_value(64), "embed: samples per timed pass")
        ("min-len", po::value<int64_t>()->default_value(32), "embed: shortest sample in tokens")
        ("batch-tokens", po::value<int64_t>(), "embed: padded tokens per batch (default: embed.batch_tokens)");
  };
  c.run = bench_main;
  return c;
}

}  // namespace ntks::cli
