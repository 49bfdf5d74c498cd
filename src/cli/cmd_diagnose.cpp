// `ntk-select diagnose stability|fidelity|entk`: the paper's checks that the
// NTK view holds on the user's model (DESIGN §2, "Diagnostics"; the
// definitions are in include/ntks/diagnose/*.h). Each writes
// RUN/diagnose/<what>.json (or --out) and an SVG plot beside it, and prints
// one summary line. Runs in one process: under mpirun rank 0 computes and
// the other ranks wait.

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <optional>
#include <iostream>
#include <nlohmann/json.hpp>

#include "command.h"
#include "inputs.h"
#include "ntks/config/enums.h"
#include "ntks/features/sample_grads.h"
#include "ntks/diagnose/entk.h"
#include "ntks/diagnose/fidelity.h"
#include "ntks/diagnose/kernels.h"
#include "ntks/diagnose/stability.h"
#include "ntks/diagnose/subset.h"
#include "ntks/log/log.h"
#include "ntks/model/adapter.h"
#include "ntks/train/evaluate.h"
#include "ntks/train/finetune.h"
#include "ntks/train/trainer.h"
#include "ntks/util/error.h"
#include "ntks/util/files.h"
#include "ntks/util/svg_plot.h"
#include "stage_common.h"

namespace ntks::cli {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

/// The model and tokenizer of the config with `adapter`: a folder, "none",
/// "init" (a fresh adapter as `finetune` starts one: lora.*, finetune.seed or
/// run.seed) or "" (RUN/warmup), through the stages' own loading.
StageSetup load_model(Context& ctx, const std::string& adapter) {
  po::variables_map args = ctx.args;
  args.erase("adapter");
  args.insert({"adapter", po::variable_value(std::string(adapter == "init" ? "none" : adapter), false)});
  Context with{args, ctx.comm, ctx.cfg};
  StageSetup s = load_stage(with);
  if (adapter == "init") {
    s.dec.add_lora(train::lora_spec(ctx.cfg.lora), static_cast<uint64_t>(train::finetune_seed(ctx.cfg)));
    s.adapter = "init";
  }
  return s;
}

std::string adapter_option(const Context& ctx, const std::string& fallback) {
  return ctx.args.count("adapter") ? ctx.args["adapter"].as<std::string>() : fallback;
}

uint64_t seed_option(const Context& ctx) {
  return static_cast<uint64_t>(ctx.args.count("seed") ? ctx.args["seed"].as<int64_t>() : ctx.cfg.run.seed);
}

int64_t dim_option(const Context& ctx) {
  const int64_t d = ctx.args.count("dim") ? ctx.args["dim"].as<int64_t>() : ctx.cfg.grads.dim;
  if (d < 0) throw UsageError(fmt::format("--dim {}: expected 0 (unprojected) or a positive dimension", d));
  return d;
}

/// UsageError when `bytes` exceeds --max-memory, with the size it needs.
void check_memory(const Context& ctx, int64_t bytes, const std::string& what, const std::string& fewer) {
  const double limit = ctx.args["max-memory"].as<double>();
  if (static_cast<double>(bytes) > limit * kGiB)
    throw UsageError(fmt::format("diagnose {}: the request needs about {:.2f} GiB, above --max-memory {:g} GiB; {} "
                                 "or raise --max-memory",
                                 what, static_cast<double>(bytes) / kGiB, limit, fewer));
  log::info("diagnose {}: about {:.3f} GiB of memory", what, static_cast<double>(bytes) / kGiB);
}

/// --out, else RUN/diagnose/<what>.json; the plot goes beside it as .svg.
std::string out_path(const Context& ctx, const std::string& what) {
  if (ctx.args.count("out")) return ctx.args["out"].as<std::string>();
  return (fs::path(ctx.cfg.run.dir) / "diagnose" / (what + ".json")).string();
}

void write_outputs(const std::string& out, const json& result, const std::string& svg) {
  const fs::path p(out);
  if (p.has_parent_path()) fs::create_directories(p.parent_path());
  write_file_atomic(out, result.dump(2) + "\n");
  write_file_atomic(fs::path(out).replace_extension(".svg").string(), svg);
}

std::vector<std::string> data_files(const Context& ctx, const std::vector<std::string>& fallback) {
  if (ctx.args.count("data")) return {ctx.args["data"].as<std::string>()};
  return fallback;
}

int fidelity(Context& ctx, dist::Communicator& local) {
  const config::Config& cfg = ctx.cfg;
  StageSetup s = load_model(ctx, adapter_option(ctx, ""));
  if (!s.dec.has_lora())
    throw UsageError("diagnose fidelity: the NTK is over the LoRA parameters, so it needs an adapter (--adapter DIR "
                     "or init, not none)");
  const std::vector<std::string> files = data_files(ctx, domain_files(cfg));
  const diagnose::Subset subset = diagnose::read_subset(files, ctx.args["samples"].as<int64_t>(), seed_option(ctx),
                                                        "--samples", cfg, tokenizer_file(cfg),
                                                        s.dec.config().vocab_size, local);
  if (subset.samples.size() < 2) throw UsageError("diagnose fidelity: correlations need --samples 2 or more");
  diagnose::FidelityOptions o;
  o.scale = cfg.grads.scale;
  o.dim = dim_option(ctx);
  if (o.dim == 0) throw UsageError("diagnose fidelity: --dim 0 leaves nothing to measure the projection's error at");
  o.projection = cfg.grads;
  o.batch_size = cfg.grads.batch_size;
  check_memory(ctx, diagnose::fidelity_memory_bytes(s.dec, subset.samples, o.dim), "fidelity", "lower --samples");
  const diagnose::FidelityResult r = diagnose::fidelity(s.dec, subset.samples, o);
  json j = diagnose::fidelity_json(r);
  j["what"] = "fidelity";
  j["data"] = files;
  j["ids"] = subset.ids;
  j["adapter"] = s.adapter.empty() ? "none" : s.adapter;
  j["model"] = cfg.model.path;
  j["grads_scale"] = cfg.grads.scale;
  j["projection"] = config::to_string(cfg.grads.projection);
  const std::string out = out_path(ctx, "fidelity");
  write_outputs(out, j, diagnose::fidelity_svg(r));
  std::cout << fmt::format("diagnose fidelity: {} samples, Jacobian-free vs exact NTK: Pearson {:.4f}, Spearman "
                           "{:.4f}, cross terms {:.1f}% of the exact NTK (Frobenius), {:.1f}% once the common factor {:.4g} is "
                           "taken out; projection d={}: JL error max {:.4f}, mean {:.4f} (bound {:.4f}); {}",
                           r.samples, r.pearson, r.spearman, 100 * r.cross_share, 100 * r.shape_error, r.jf_over_exact,
                           r.dim, r.jl_max_rel_error,
                           r.jl_mean_rel_error, r.jl_bound, out)
            << std::endl;
  return 0;
}

// --adapters in order, then the --checkpoints folder's step-N adapters by
// step; neither: finetune.out's snapshots.
std::vector<diagnose::StabilityAdapter> stability_adapters(const Context& ctx) {
  std::vector<diagnose::StabilityAdapter> list;
  if (ctx.args.count("adapters"))
    for (const std::string& a : ctx.args["adapters"].as<std::vector<std::string>>()) {
      const std::string name = a == "init" ? "init" : fs::path(a).lexically_normal().filename().string();
      int64_t step = a == "init" ? 0 : -1;
      if (name.rfind("step-", 0) == 0) try {
          step = std::stoll(name.substr(5));
        } catch (const std::exception&) {
        }
      list.push_back({name.empty() ? a : name, a, step});
    }
  if (ctx.args.count("checkpoints") || list.empty()) {
    const std::string folder = ctx.args.count("checkpoints")
                                   ? ctx.args["checkpoints"].as<std::string>()
                                   : (fs::path(train::finetune_out(ctx.cfg)) / "snapshots").string();
    for (auto& a : diagnose::adapters_in(folder)) list.push_back(std::move(a));
  }
  return list;
}

int stability(Context& ctx, dist::Communicator& local) {
  const config::Config& cfg = ctx.cfg;
  const std::vector<diagnose::StabilityAdapter> adapters = stability_adapters(ctx);
  if (adapters.size() < 2)
    throw UsageError(fmt::format("diagnose stability: {} adapter(s) found, nothing to compare: give the start and "
                                 "later checkpoints with --adapters A B ... or --checkpoints DIR (`ntk-select finetune "
                                 "--keep-adapters N` keeps them in OUT/snapshots/)",
                                 adapters.size()));
  diagnose::check_adapters(adapters);
  StageSetup s = load_model(ctx, "none");
  const int64_t vocab = s.dec.config().vocab_size;
  const uint64_t seed = seed_option(ctx);
  const diagnose::Subset domain = diagnose::read_subset(domain_files(cfg), ctx.args["domain-samples"].as<int64_t>(),
                                                        seed, "--domain-samples", cfg, tokenizer_file(cfg), vocab,
                                                        local);
  const int64_t want_candidates = ctx.args["candidate-samples"].as<int64_t>();
  const diagnose::Subset candidates =
      want_candidates > 0 ? diagnose::read_subset(candidate_files(cfg), want_candidates, seed + 1,
                                                  "--candidate-samples", cfg, tokenizer_file(cfg), vocab, local)
                          : diagnose::Subset{};
  std::vector<data::Sample> samples = domain.samples;
  samples.insert(samples.end(), candidates.samples.begin(), candidates.samples.end());
  if (samples.size() < 2) throw UsageError("diagnose stability: a kernel needs 2 samples or more");
  diagnose::StabilityOptions o;
  o.output = cfg.grads.output;
  o.scale = cfg.grads.scale;
  o.dim = dim_option(ctx);
  o.projection = cfg.grads;
  o.batch_size = cfg.grads.batch_size;
  o.init_seed = static_cast<uint64_t>(train::finetune_seed(cfg));
  o.lora = cfg.lora;
  {
    const auto n = static_cast<int64_t>(samples.size());
    const int64_t width = o.dim > 0 ? o.dim : [&] {
      StageSetup probe = load_model(ctx, "init");
      return features::lora_parameter_count(probe.dec);
    }();
    // Two [n, width] float32 row sets (lora_A, lora_B parts) and a batch's pair.
    check_memory(ctx, 4 * (2 * n + 2 * std::min<int64_t>(n, cfg.grads.batch_size)) * width +
                          static_cast<int64_t>(adapters.size()) * 8 * n * n,
                 "stability", "lower --domain-samples / --candidate-samples or use a projection (--dim)");
  }
  const diagnose::StabilityResult r = diagnose::stability(s.dec, samples, adapters, o);
  json j = diagnose::stability_json(r);
  j["what"] = "stability";
  j["domain_samples"] = domain.ids;
  j["candidate_samples"] = candidates.ids;
  j["grads_output"] = config::to_string(cfg.grads.output);
  j["grads_scale"] = cfg.grads.scale;
  j["model"] = cfg.model.path;
  const std::string out = out_path(ctx, "stability");
  write_outputs(out, j, diagnose::stability_svg(r));
  std::cout << fmt::format("diagnose stability: {} samples ({} domain, {} candidates), {} adapters against {}: min "
                           "Frobenius cosine {:.6f} (epsilon {:.3g}), last {:.6f}; {}",
                           r.samples, domain.ids.size(), candidates.ids.size(), r.points.size(),
                           r.points[r.reference].adapter.name, r.min_cosine, r.epsilon, r.points.back().cosine, out)
            << std::endl;
  return 0;
}

std::vector<double> lambdas_option(const Context& ctx) {
  if (!ctx.args.count("lambdas")) return diagnose::kPaperLambdas;
  std::vector<double> out;
  const std::string text = ctx.args["lambdas"].as<std::string>();
  size_t at = 0;
  while (at <= text.size()) {
    const size_t comma = std::min(text.find(',', at), text.size());
    const std::string item = text.substr(at, comma - at);
    try {
      size_t used = 0;
      out.push_back(std::stod(item, &used));
      if (used != item.size()) throw std::invalid_argument(item);
    } catch (const std::exception&) {
      throw UsageError(fmt::format("--lambdas '{}': '{}' is not a number (expected e.g. 1e-4,1e-3,1e-2)", text, item));
    }
    at = comma + 1;
  }
  return out;
}

// Fine-tunes a fresh adapter (finetune.*, lora.*) on the training questions'
// lines and scores the test questions with it as `evaluate` does; returns
// the accuracy by mean log-likelihood.
double finetune_accuracy(const Context& ctx, dist::Communicator& local, StageSetup& s, const diagnose::ChoiceData& d,
                         const diagnose::EntkSplit& split, const fs::path& dir) {
  auto write_lines = [&](const std::vector<int64_t>& which, const fs::path& file) {
    std::string text;
    for (int64_t q : which) text += d.questions[static_cast<size_t>(q)].line + "\n";
    write_file_atomic(file.string(), text);
  };
  std::vector<int64_t> train = split.fit;
  train.insert(train.end(), split.val.begin(), split.val.end());
  std::sort(train.begin(), train.end());
  fs::create_directories(dir);
  write_lines(train, dir / "train.jsonl");
  write_lines(split.test, dir / "test.jsonl");
  config::Config cfg = ctx.cfg;
  cfg.finetune.data = (dir / "train.jsonl").string();
  cfg.finetune.out = (dir / "adapter").string();
  log::info("diagnose entk: fine-tuning on the {} training questions -> {}", train.size(), cfg.finetune.out);
  train::finetune(cfg, local, train::FinetuneRequest{});
  model::load_adapter(s.dec, cfg.finetune.out);
  std::vector<data::Sample> options;
  std::vector<int64_t> counts, answers;
  for (int64_t qi : split.test) {
    const diagnose::Question& q = d.questions[static_cast<size_t>(qi)];
    for (int64_t o = 0; o < q.count; ++o) options.push_back(d.options[static_cast<size_t>(q.first + o)]);
    counts.push_back(q.count);
    answers.push_back(q.answer);
  }
  return train::choice_accuracy(s.dec, options, counts, answers, ctx.cfg.evaluate.batch_size, local).accuracy;
}

int entk(Context& ctx, dist::Communicator& local) {
  const config::Config& cfg = ctx.cfg;
  const std::string file = ctx.args.count("data") ? ctx.args["data"].as<std::string>() : cfg.evaluate.test;
  if (file.empty())
    throw ConfigError("diagnose entk: no labelled set: name it with --data FILE or --set evaluate.test=FILE (lines "
                      "with \"options\" and \"answer\", as demo-data's test.jsonl)");
  if (!fs::is_regular_file(file)) throw InputError(fmt::format("{}: no such file (the labelled set)", file));
  StageSetup s = load_model(ctx, adapter_option(ctx, "init"));
  if (!s.dec.has_lora())
    throw UsageError("diagnose entk: the eNTK is over the LoRA parameters, so it needs an adapter (--adapter DIR or "
                     "init, not none)");
  const diagnose::ChoiceData d =
      diagnose::read_choice_data(file, cfg, tokenizer_file(cfg), s.dec.config().vocab_size, local);
  const diagnose::EntkSplit split =
      diagnose::split_questions(static_cast<int64_t>(d.questions.size()), ctx.args["test-share"].as<double>(),
                                ctx.args["val-share"].as<double>(), seed_option(ctx));
  const std::vector<double> lambdas = lambdas_option(ctx);
  const int64_t dim = dim_option(ctx);
  const auto n = static_cast<int64_t>(d.options.size());
  const int64_t width = dim > 0 ? dim : features::lora_parameter_count(s.dec);
  check_memory(ctx, 4 * 3 * n * width + 2 * 8 * n * n, "entk",
               "use fewer labelled lines or a smaller --dim (the kernel is over every option of every line)");

  std::optional<features::Projector> projector;
  if (dim > 0) projector.emplace(cfg.grads, dim);
  const at::Tensor k = diagnose::gram(diagnose::gradient_rows(s.dec, d.options, cfg.grads.output, cfg.grads.scale,
                                                              projector ? &*projector : nullptr, cfg.grads.batch_size)
                                          .all());
  const diagnose::KrrResult krr = diagnose::kernel_regression(k, d.questions, split, lambdas);
  double chance = 0;
  for (int64_t q : split.test) chance += 1.0 / static_cast<double>(d.questions[static_cast<size_t>(q)].count);
  chance /= static_cast<double>(split.test.size());

  const std::string out = out_path(ctx, "entk");
  const fs::path work = fs::path(out).replace_extension("");  // RUN/diagnose/entk/
  fs::create_directories(work);
  {  // The option samples and their labels, for checking the kernel elsewhere.
    std::string text;
    for (size_t qi = 0; qi < d.questions.size(); ++qi) {
      const diagnose::Question& q = d.questions[qi];
      for (int64_t o = 0; o < q.count; ++o) {
        const data::Sample& x = d.options[static_cast<size_t>(q.first + o)];
        text += json{{"question", qi}, {"option", o}, {"label", o == q.answer ? 1 : 0}, {"ids", x.ids},
                     {"response_mask", x.response_mask}}
                    .dump() +
                "\n";
      }
    }
    write_file_atomic((work / "options.jsonl").string(), text);
  }
  const bool tune = !ctx.args.count("no-finetune");
  const double ft = tune ? finetune_accuracy(ctx, local, s, d, split, work) : 0;

  json j = {{"entk_accuracy", krr.test_accuracy},
            {"finetune_accuracy", tune ? json(ft) : json(nullptr)},
            {"entk_over_finetune", tune && ft > 0 ? json(krr.test_accuracy / ft) : json(nullptr)},
            {"chance_accuracy", chance},
            {"lambda", krr.lambda},
            {"questions", d.questions.size()},
            {"fit_questions", split.fit.size()},
            {"val_questions", split.val.size()},
            {"test_questions", split.test.size()},
            {"option_samples", n},
            {"dim", dim},
            {"what", "entk"},
            {"data", file},
            {"adapter", s.adapter.empty() ? "none" : s.adapter},
            {"model", cfg.model.path},
            {"grads_output", config::to_string(cfg.grads.output)},
            {"grads_scale", cfg.grads.scale},
            {"lambdas", krr.lambdas},
            {"val_accuracy", krr.val_accuracy},
            {"split", {{"fit", split.fit}, {"val", split.val}, {"test", split.test}}},
            {"options_file", (work / "options.jsonl").string()},
            {"finetune_adapter", tune ? json((work / "adapter").string()) : json(nullptr)},
            {"definitions",
             {{"samples", "every (question, option) pair: the prompt with the option as the response, as evaluate "
                          "scores it; target 1 for the right option, 0 for the others (one-hot over the options)"},
              {"kernel", "K = Phi Phi^T, rows of Phi the per-sample LoRA gradients of f (grads.output) at the "
                         "adapter, projected P^T g / sqrt(d) (dim 0: unprojected)"},
              {"regression", "alpha = (K_TT + lambda * mean(diag K_TT) * I)^-1 y_T over the training pairs; an "
                             "option's score K_oT alpha; a question's answer its highest-scoring option (ties: lowest "
                             "index)"},
              {"lambda", "chosen on the val questions after fitting on the fit questions (best accuracy; ties: the "
                         "larger); then refitted on fit + val and scored on test"},
              {"finetune_accuracy", "a fresh LoRA adapter fine-tuned (finetune.*) on the fit + val lines, scored on "
                                    "the test questions by mean log-likelihood per response token, as evaluate"}}}};
  util::PlotSeries val;
  val.label = "eNTK, validation";
  val.markers = true;
  for (size_t i = 0; i < krr.lambdas.size(); ++i) {
    val.x.push_back(std::log10(krr.lambdas[i]));
    val.y.push_back(krr.val_accuracy[i]);
  }
  std::vector<util::PlotSeries> series = {val};
  auto flat = [&](const std::string& label, const std::string& color, double y) {
    util::PlotSeries f;
    f.label = label;
    f.color = color;
    f.x = {val.x.front(), val.x.back()};
    f.y = {y, y};
    series.push_back(f);
  };
  flat(fmt::format("eNTK, test ({:.1f}%)", 100 * krr.test_accuracy), "#2ca02c", krr.test_accuracy);
  if (tune) flat(fmt::format("fine-tuning, test ({:.1f}%)", 100 * ft), "#d62728", ft);
  flat("chance", "#999999", chance);
  util::PlotOptions po;
  po.title = fmt::format("eNTK kernel regression vs LoRA fine-tuning ({} test questions)", split.test.size());
  po.x_label = "log10 lambda (relative to the mean kernel diagonal)";
  po.y_label = "accuracy";
  write_outputs(out, j, util::svg_line_chart(series, po));
  std::cout << fmt::format("diagnose entk: {} questions ({} fit, {} val, {} test, {} option samples): eNTK regression "
                           "{:.1f}% (lambda {:g}){}, chance {:.1f}%; {}",
                           d.questions.size(), split.fit.size(), split.val.size(), split.test.size(), n,
                           100 * krr.test_accuracy, krr.lambda,
                           tune ? fmt::format(", LoRA fine-tuning {:.1f}%", 100 * ft) : std::string(), 100 * chance, out)
            << std::endl;
  return 0;
}

int diagnose_main(Context& ctx) {
  if (!ctx.args.count("what"))
    throw UsageError("diagnose: name what to check: stability, fidelity or entk (see `ntk-select diagnose --help`)");
  const std::string what = ctx.args["what"].as<std::string>();
  if (what != "stability" && what != "fidelity" && what != "entk")
    throw UsageError(fmt::format("diagnose '{}': expected stability, fidelity or entk", what));
  if (ctx.cfg.model.path.empty()) throw ConfigError("model.path is not set: the diagnostics run that model");
  // One process computes; the others wait for it (an error there ends every rank).
  int code = 0;
  if (ctx.comm.is_root()) {
    const std::unique_ptr<dist::Communicator> local = dist::make_local();
    if (what == "fidelity") code = fidelity(ctx, *local);
    if (what == "stability") code = stability(ctx, *local);
    if (what == "entk") code = entk(ctx, *local);
  }
  ctx.comm.barrier();
  return code;
}

}  // namespace

Command diagnose_command() {
  Command c;
  c.name = "diagnose";
  c.computes = true;
  c.summary = "check the NTK view on this model: kernel stability, Jacobian-free fidelity, eNTK regression";
  c.description =
      "ntk-select diagnose WHAT [options], WHAT one of:\n\n"
      "  fidelity   On --samples records of --data (default data.domain, a seeded random choice):\n"
      "             the exact (trace) NTK K_ex(x,x') = sum_v <grad z_v(x), grad z_v(x')> over the\n"
      "             vocabulary (z_v = the logit of v averaged over the response rows, times\n"
      "             grads.scale; gradients over the LoRA parameters of --adapter) against the\n"
      "             Jacobian-free kernel the selection uses, K_JF = <grad f, grad f'> with\n"
      "             f = sum_v z_v. Reports the Pearson and Spearman correlation over the pairs\n"
      "             i <= j, the share of the cross terms ||K_JF - K_ex||_F / ||K_ex||_F (and mean\n"
      "             |.| / mean |.|), the same after the best common factor c (K_JF ~ c K_ex:\n"
      "             shape_error = ||K_JF - c K_ex||_F / ||K_JF||_F, which no ranking sees), and\n"
      "             the error of the Rademacher projection at --dim against\n"
      "             the unprojected gradients: |K_P - K_JF| / (|g| |g'|), max and mean, beside the\n"
      "             Johnson-Lindenstrauss bound for that d (probability 0.95). The exact NTK is\n"
      "             computed without a loop over the vocabulary: z_v = W_v . hbar, so with\n"
      "             W^T W = sum_j c_j c_j^T it is sum_j of the kernels of c_j . hbar, one backward\n"
      "             per sample and direction, at most hidden_size directions.\n\n"
      "  stability  The kernel K_t = G_t G_t^T of the per-sample LoRA gradients (grads.output, projected\n"
      "             to --dim, default grads.dim; 0: unprojected) of --domain-samples records of\n"
      "             data.domain and --candidate-samples of data.candidates, at a list of adapters:\n"
      "             --adapters A B ... (folders, or init: a fresh adapter as `finetune` starts one)\n"
      "             followed by the step-N folders of --checkpoints DIR by step; by default the\n"
      "             snapshots of finetune.out (`ntk-select finetune --keep-adapters N`: step 0 is the\n"
      "             fresh adapter, then every N steps). Reports cos_F(K_0, K_t) =\n"
      "             <K_0, K_t>_F / (||K_0||_F ||K_t||_F) per adapter against the first (K_0), the\n"
      "             smallest (min_cosine) and epsilon = 1 - min_cosine (Definition 1 of the paper).\n"
      "             At a fresh adapter B = 0, so every lora_A gradient is 0: K_0 is the kernel of\n"
      "             the lora_B gradients, not degenerate, and it stays the reference (a_share shows\n"
      "             the lora_A part of each K_t); only a kernel that is exactly 0 passes the role to\n"
      "             the next adapter, and the JSON says so (reference_note).\n\n"
      "  entk       Kernel ridge regression with the eNTK (paper, App. A.5) against LoRA fine-tuning on\n"
      "             one split of a labelled multiple-choice set: --data FILE (default evaluate.test),\n"
      "             every line with \"options\" and \"answer\" (demo-data's test.jsonl). Each (question,\n"
      "             option) pair is a sample (the option as the response, as `evaluate` scores it),\n"
      "             target 1 for the right option and 0 for the others; K = Phi Phi^T of their\n"
      "             gradients at --adapter (default init: the fine-tune's start), projected to --dim;\n"
      "             alpha = (K_TT + lambda mean(diag K_TT) I)^-1 y; a question is answered by its\n"
      "             highest-scoring option. Questions are shuffled (--seed) into a test part\n"
      "             (--test-share) and a training part, of which --val-share chooses lambda from\n"
      "             --lambdas (the paper's grid); refitted on the whole training part, scored on\n"
      "             test. Then a fresh adapter is fine-tuned (finetune.*, lora.*) on the training\n"
      "             part's lines and scored on the test part as `evaluate` does (--no-finetune\n"
      "             skips it). Writes RUN/diagnose/entk/{train,test,options}.jsonl and adapter/.\n\n"
      "Writes RUN/diagnose/WHAT.json (RUN = run.dir; --out FILE instead) with the headline numbers as\n"
      "top-level scalars, the definitions used and the kernel matrices, and the plot beside it\n"
      "(WHAT.svg), and prints one summary line. A request that cannot be met is an error before any\n"
      "computation: more samples than records, a size above --max-memory (with the size it needs).\n\n"
      "  ntk-select diagnose fidelity --config my.yaml --samples 16\n"
      "  ntk-select diagnose entk --config my.yaml --data demo-data/test.jsonl\n"
      "  ntk-select finetune --config my.yaml --keep-adapters 10 && ntk-select diagnose stability --config my.yaml\n";
  c.positional = "what";
  c.options = [](po::options_description& o) {
    o.add_options()
        ("what", po::value<std::string>(), "stability, fidelity or entk (also the first positional argument)")
        ("out", po::value<std::string>(), "the JSON file to write (default RUN/diagnose/WHAT.json); the SVG plot "
         "goes beside it with the extension .svg")
        ("adapter", po::value<std::string>(),
         "fidelity, entk: the LoRA adapter the gradients are taken at: a PEFT folder, or init (a fresh adapter as "
         "`finetune` starts one: lora.*, finetune.seed or run.seed; its lora_A gradients are exactly 0); "
         "default RUN/warmup for fidelity, init for entk")
        ("data", po::value<std::string>(), "fidelity: the JSONL file the samples are drawn from (default data.domain); "
         "entk: the labelled multiple-choice set (default evaluate.test)")
        ("samples", po::value<int64_t>()->default_value(16), "fidelity: how many records to draw")
        ("seed", po::value<int64_t>(), "seed of the random choice of records (fidelity, stability; candidates use seed + 1) and of entk's split "
         "(default run.seed)")
        ("dim", po::value<int64_t>(), "fidelity: the projection dimension d whose error is measured; stability, "
         "entk: the d of the kernels' gradients, 0 for unprojected (default grads.dim; the projection's seed is "
         "grads.seed)")
        ("adapters", po::value<std::vector<std::string>>()->multitoken(),
         "stability: adapters to compare, in order, the first being the reference: PEFT folders or init")
        ("checkpoints", po::value<std::string>(),
         "stability: a folder whose step-N subfolders are adapters (finetune's OUT/snapshots), taken by step after "
         "--adapters; default finetune.out/snapshots when --adapters is not given")
        ("domain-samples", po::value<int64_t>()->default_value(8), "stability: records drawn from data.domain")
        ("candidate-samples", po::value<int64_t>()->default_value(8),
         "stability: records drawn from data.candidates (0: none)")
        ("test-share", po::value<double>()->default_value(0.5), "entk: share of the questions held out for testing")
        ("val-share", po::value<double>()->default_value(0.25),
         "entk: share of the training questions that choose lambda")
        ("lambdas", po::value<std::string>(),
         "entk: comma-separated ridge grid, relative to the mean kernel diagonal (default the paper's "
         "1e-5,1e-4,3e-4,1e-3,3e-3,1e-2,1e-1)")
        ("no-finetune", "entk: only the kernel regression, no fine-tuning to compare with")
        ("max-memory", po::value<double>()->default_value(4.0),
         "GiB the computation may use (estimated before it starts); a larger request is an error naming its size");
  };
  c.run = diagnose_main;
  return c;
}

}  // namespace ntks::cli
