// `ntk-select bench`: throughput figures as fractions of this machine's GEMM peak.

#include <iostream>

#include "command.h"
#include "ntks/bench/bench.h"
#include "ntks/config/enums.h"
#include "ntks/log/log.h"
#include "ntks/model/device.h"
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

int run(Context& ctx) {
  const auto& a = ctx.args;
  if (!ctx.comm.is_root()) return 0;
  auto dt = config::parse_enum<config::DType>(a["dtype"].as<std::string>());
  if (!dt) throw UsageError("--dtype must be bf16, fp16 or fp32");
  at::Device device = model::choose_device(ctx.cfg.model.device, ctx.comm.local_rank());
  at::ScalarType dtype = model::compute_dtype(*dt);
  for (const std::string& what : split(a["what"].as<std::string>(), ',')) {
    if (what == "gemm") {
      bench::GemmPeak p = bench::gemm_peak(dtype, device);
      std::cout << fmt::format("gemm: {:.1f} GFLOP/s peak ({} on {}, n={}, {} threads)\n", p.gflops,
                               c10::toString(dtype), device.str(), p.n, at::get_num_threads());
    } else if (what == "forward") {
      bench_forward(ctx, device, dtype);
    } else {
      throw UsageError(fmt::format("--what '{}': expected gemm or forward", what));
    }
  }
  return 0;
}

}  // namespace

Command bench_command() {
  Command c;
  c.name = "bench";
  c.summary = "measure GEMM peak and model throughput (as a fraction of that peak) on this machine";
  c.description =
      "Each figure is reported with this machine's own GEMM peak in the same dtype, measured in\n"
      "the same process with the same threads, so it can be compared across machines.";
  c.options = [](po::options_description& o) {
    o.add_options()
        ("what", po::value<std::string>()->default_value("gemm,forward"), "comma-separated: gemm, forward")
        ("dtype", po::value<std::string>()->default_value("fp32"), "bf16, fp16 or fp32")
        ("layers", po::value<int64_t>()->default_value(8), "forward: decoder layers")
        ("hidden", po::value<int64_t>()->default_value(512), "forward: hidden size")
        ("intermediate", po::value<int64_t>()->default_value(1408), "forward: MLP size")
        ("heads", po::value<int64_t>()->default_value(8), "forward: attention heads")
        ("kv-heads", po::value<int64_t>()->default_value(4), "forward: key/value heads")
        ("vocab", po::value<int64_t>()->default_value(32000), "forward: vocabulary (counts toward parameters)")
        ("batch", po::value<int64_t>()->default_value(4), "forward: sequences per batch")
        ("seq-len", po::value<int64_t>()->default_value(512), "forward: tokens per sequence")
        ("reps", po::value<int>()->default_value(5), "forward: timed passes");
  };
  c.run = run;
  return c;
}

}  // namespace ntks::cli
