// `ntk-select run`: every stage in order (warmup, embed, preselect, grads,
// score, select) in this one process per rank, skipping the stages whose
// manifest matches their current inputs (DESIGN §3 'pipeline', §5). Also
// run_body(), through which every stage command runs, standalone or here, so
// that each writes its manifest (pipeline::run_stage).

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "command.h"
#include "inputs.h"
#include "run_forecast.h"
#include "ntks/config/enums.h"
#include "ntks/config/load.h"
#include "ntks/log/log.h"
#include "ntks/pipeline/stage.h"
#include "ntks/report/report.h"
#include "ntks/util/error.h"
#include "ntks/util/strings.h"

namespace ntks::cli {
namespace {

namespace fs = std::filesystem;

std::string option_text(const boost::any& v) {
  if (const auto* s = boost::any_cast<std::string>(&v)) return *s;
  if (const auto* i = boost::any_cast<int>(&v)) return std::to_string(*i);
  if (const auto* l = boost::any_cast<int64_t>(&v)) return std::to_string(*l);
  if (const auto* d = boost::any_cast<double>(&v)) return fmt::format("{}", *d);
  if (const auto* b = boost::any_cast<bool>(&v)) return *b ? "true" : "false";
  if (const auto* l = boost::any_cast<std::vector<std::string>>(&v)) return join(*l, ",");
  return "(set)";
}

/// The options of the command's own set that were given explicitly; values
/// naming existing files or folders made absolute, so that a manifest written
/// by a standalone call and one written under `run` compare equal.
pipeline::StageOptions explicit_options(const Command& cmd, const po::variables_map& vm) {
  po::options_description own;
  if (cmd.options) cmd.options(own);
  pipeline::StageOptions out;
  for (const auto& opt : own.options()) {
    const auto it = vm.find(opt->long_name());
    if (it == vm.end() || it->second.defaulted() || it->second.empty()) continue;
    std::string text = option_text(it->second.value());
    std::error_code ec;
    if (!text.empty() && fs::exists(text, ec)) text = fs::absolute(text).lexically_normal().string();
    out[opt->long_name()] = text;
  }
  return out;
}

Command stage_command(const std::string& name) {
  static const std::vector<std::pair<std::string, Command (*)()>> factories = {
      {"warmup", warmup_command}, {"embed", embed_command}, {"preselect", preselect_command},
      {"grads", grads_command},   {"score", score_command}, {"select", select_command}};
  for (const auto& [n, make] : factories)
    if (n == name) return make();
  throw InternalError(fmt::format("no command for stage {}", name));
}

/// One stage as `run` calls it: the command and its arguments, parsed by the
/// command's own options as if typed after `ntk-select NAME`.
struct StageCall {
  Command cmd;
  std::vector<std::string> argv;
  po::variables_map vm;
  pipeline::StageOptions options;
};

StageCall make_call(const config::Config& cfg, const std::string& stage, const std::string& reuse) {
  StageCall c{stage_command(stage), {}, {}, {}};
  po::options_description own;
  if (c.cmd.options) c.cmd.options(own);
  if (!reuse.empty() && own.find_nothrow("reuse", false)) c.argv = {"--reuse", reuse};
  if (stage == "grads" && cfg.select.method != config::SelectMethod::less) {  // LESS scores every candidate
    // Gradients of the pre-selected candidates only: the pre-selection file
    // when grads reads it, else its id list.
    const fs::path pre = fs::absolute(fs::path(cfg.run.dir) / "preselect").lexically_normal();
    if (own.find_nothrow("preselected", false))
      c.argv.insert(c.argv.end(), {"--preselected", (pre / "preselected.h5").string()});
    else
      c.argv.insert(c.argv.end(), {"--ids-file", (pre / "preselected_ids.txt").string()});
  }
  try {
    po::store(po::command_line_parser(c.argv).options(own).run(), c.vm);
    po::notify(c.vm);
  } catch (const po::error& e) {
    throw InternalError(fmt::format("run: arguments of {} rejected: {}", stage, e.what()));
  }
  c.options = explicit_options(c.cmd, c.vm);
  return c;
}

// --reuse PREV: an earlier run's warm-up is this run's too when nothing it
// depends on changed (the domain set, model, config): its folder is copied
// with the files' times, and the plan below checks its manifest as it would
// this run's own. Only into a run that has no warmup folder yet.
void seed_warmup(const config::Config& cfg, const std::string& prev) {
  const fs::path from = fs::path(prev) / "warmup", to = pipeline::stage_dir(cfg, "warmup");
  std::error_code ec;
  if (fs::exists(to, ec) || !fs::is_regular_file(from / "manifest.json", ec)) return;
  const fs::path tmp = to.string() + ".tmp-reuse";
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  for (const auto& e : fs::directory_iterator(from)) {
    if (!e.is_regular_file()) continue;
    const fs::path dst = tmp / e.path().filename();
    fs::copy_file(e.path(), dst, fs::copy_options::overwrite_existing);
    fs::last_write_time(dst, fs::last_write_time(e.path()));
  }
  fs::rename(tmp, to);
  log::info("warmup: copied from {} (--reuse); it is used if it is up to date", from.string());
}

// Test hook for the restart tests: NTKS_TEST_KILL_AFTER_STAGE=embed ends the
// process with SIGKILL right after embed's manifest is written, as a node
// failure between two stages would.
void kill_point(const std::string& stage) {
  static const char* env = std::getenv("NTKS_TEST_KILL_AFTER_STAGE");
  if (env && stage == env) std::raise(SIGKILL);
}

std::string counts_text(const pipeline::StageSummary& s) {
  std::vector<std::string> parts;
  for (const auto& [label, n] : s.counts) parts.push_back(fmt::format("{} {}", label, n));
  return join(parts, ", ");
}

void print_run_summary(const config::Config& cfg, int ranks, const std::vector<pipeline::StageTiming>& timings,
                   double seconds, bool complete) {
  int ran = 0, skipped = 0;
  for (const auto& t : timings) {
    if (t.status == "ran") ++ran;
    if (t.status == "up to date") ++skipped;
  }
  std::string out = fmt::format("run: {} in {:.1f}s on {} rank(s), select.method {}: {} stage(s) ran, {} up to date; "
                                "config hash {}\n",
                                complete ? "complete" : "stopped", seconds, ranks, config::to_string(cfg.select.method),
                                ran, skipped, config::hash(cfg));
  for (const auto& t : timings) {
    const std::string counts = t.status == "not needed" ? "" : counts_text(pipeline::read_summary(cfg, t.stage));
    out += fmt::format("  {:<10} {:<11} {:>8}  {}\n", t.stage, t.status,
                       t.status == "ran" ? fmt::format("{:.1f}s", t.seconds) : std::string("-"), counts);
  }
  const fs::path sel = fs::path(cfg.run.dir) / "select";
  const pipeline::StageSummary s = pipeline::read_summary(cfg, "select");
  if (complete && s.present) {
    out += fmt::format("selected: {}/{{{}}}\n", sel.string(), join(s.outputs, ", "));
    out += fmt::format("manifest: {}\n", pipeline::run_manifest_path(cfg));
  }
  std::cout << out << std::flush;
}

int run_main(Context& ctx) {
  const auto& names = pipeline::stage_names();
  const auto& a = ctx.args;
  if (a["dry-run"].as<bool>()) return dry_run_forecast(ctx, a["dry-run-samples"].as<int64_t>());
  const size_t last = a.count("to") ? pipeline::stage_index(a["to"].as<std::string>(), "--to") : names.size() - 1;
  size_t forced_from = names.size();
  std::string forced_why;
  if (a.count("from")) {
    forced_from = pipeline::stage_index(a["from"].as<std::string>(), "--from");
    forced_why = "--from " + names[forced_from];
    if (forced_from > last)
      throw UsageError(fmt::format("--from {} comes after --to {}", names[forced_from], names[last]));
  }
  if (a["force"].as<bool>()) forced_from = 0, forced_why = "--force";

  std::string reuse;
  if (a.count("reuse")) reuse = reuse_folder(ctx.cfg, a["reuse"].as<std::string>());
  std::vector<StageCall> calls;
  for (size_t i = 0; i <= last; ++i) calls.push_back(make_call(ctx.cfg, names[i], reuse));

  // Rank 0 decides what runs and tells the others, so that ranks never
  // disagree about a stage (file timestamps can differ between nodes).
  std::string plan;  // one line per stage: empty when up to date, else why it runs
  if (ctx.comm.is_root()) {
    if (!reuse.empty() && forced_from > 0) seed_warmup(ctx.cfg, reuse);
    std::vector<pipeline::StageOptions> options;
    for (const StageCall& c : calls) options.push_back(c.options);
    for (const std::string& why : pipeline::plan_run(ctx.cfg, options, forced_from, forced_why)) plan += why + "\n";
    std::error_code ec;
    fs::remove(pipeline::run_manifest_path(ctx.cfg), ec);  // only a complete run has one
  }
  ctx.comm.broadcast_bytes(plan, 0);
  const std::vector<std::string> reasons = split(plan, '\n');

  const auto t0 = std::chrono::steady_clock::now();
  std::vector<pipeline::StageTiming> timings;
  for (size_t i = 0; i <= last; ++i) {
    const std::string& stage = names[i];
    log::StageScope scope(stage);
    if (reasons[i].empty()) {
      log::info0("{}: up to date, skipped", stage);
      timings.push_back({stage, "up to date", 0});
      continue;
    }
    if (reasons[i] == pipeline::kNotNeeded) {
      log::info0("{}: not needed by select.method {}", stage, config::to_string(ctx.cfg.select.method));
      timings.push_back({stage, "not needed", 0});
      continue;
    }
    log::info0("{}: running ({})", stage, reasons[i]);
    if (i >= forced_from && ctx.comm.is_root()) {
      // Forced: start from nothing, not from the files of an earlier run.
      fs::remove_all(pipeline::stage_dir(ctx.cfg, stage));
      fs::remove_all(pipeline::stage_dir(ctx.cfg, stage) + ".partial");
    }
    ctx.comm.barrier();
    const auto s0 = std::chrono::steady_clock::now();
    Context sub{calls[i].vm, ctx.comm, ctx.cfg};
    const int code = run_body(calls[i].cmd, sub);
    if (code != 0) return code;
    timings.push_back({stage, "ran", std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count()});
    kill_point(stage);
  }
  for (size_t i = last + 1; i < names.size(); ++i) timings.push_back({names[i], "not run", 0});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const bool complete = last + 1 == names.size();
  if (ctx.comm.is_root()) {
    if (complete) pipeline::write_run_manifest(ctx.cfg, ctx.comm.size(), timings, seconds);
    print_run_summary(ctx.cfg, ctx.comm.size(), timings, seconds, complete);
    try {  // the page about the run (ntk-select report); failing to write it costs the run nothing
      report::ReportOptions ro;
      ro.run_dir = ctx.cfg.run.dir;
      const report::ReportSummary r = report::write_report(ro);
      std::cout << fmt::format("report: {} ({:.1f} KiB)", r.path, r.bytes / 1024.0) << std::endl;
    } catch (const std::exception& e) {
      log::warn("report: not written: {}", e.what());
    }
  }
  ctx.comm.barrier();
  return 0;
}

}  // namespace

int run_body(const Command& cmd, Context& ctx) {
  if (!pipeline::is_stage(cmd.name)) return cmd.run(ctx);
  return pipeline::run_stage(ctx.cfg, ctx.comm, cmd.name, explicit_options(cmd, ctx.args),
                             [&] { return cmd.run(ctx); });
}

Command run_command() {
  Command c;
  c.name = "run";
  c.computes = true;
  c.summary = "every stage in order (warmup ... select), skipping the ones that are up to date";
  c.description =
      "Runs warmup, embed, preselect, grads (of the pre-selected candidates), score and select\n"
      "in this process (under mpirun: every rank takes part in every stage), as the stage\n"
      "commands would with the same config. Each stage writes RUN/<stage>/manifest.json last:\n"
      "the config keys it depends on, the fingerprints of its input files (size, mtime, XXH3),\n"
      "the digests of the upstream manifests it read, its outputs, versions, ranks and time.\n"
      "A stage whose manifest matches what it would read now is skipped (\"up to date,\n"
      "skipped\"); the first one that does not match runs, and so does every stage after it.\n"
      "A stage that was killed has no manifest and runs again; embed and grads continue from\n"
      "the blocks they had committed. At the end: RUN/manifest.json (config hash, input\n"
      "fingerprints, versions, per-stage status and time) and one summary on stdout: counts\n"
      "and time per stage and where the selection is (RUN/select/), and RUN/report.html: one\n"
      "self-contained page about the run (`ntk-select report`; a failure to write it only warns).\n"
      "With --reuse PREV (a refreshed corpus) a new run folder computes only what is new.\n"
      "Cost forecast: after the first block of candidates, embed and grads log their rate and the\n"
      "forecast time of the whole stage on this rank count (RUN/forecast/embed.json, grads.json);\n"
      "--dry-run measures the warm-up, embed, pre-selection and grads code on a short sample of\n"
      "the candidates and prints the forecast of every stage without running any.";
  c.options = [](po::options_description& o) {
    o.add_options()
        ("from", po::value<std::string>(),
         "run this stage and every later one even when up to date (their folders are removed first, "
         "so they start from nothing); earlier stages still run if they are not up to date")
        ("to", po::value<std::string>(), "stop after this stage (no RUN/manifest.json then)")
        ("force", po::bool_switch()->default_value(false), "run every stage from nothing (as --from warmup)")
        ("reuse", po::value<std::string>(),
         "RUN folder of an earlier run on an older corpus (never this run's): its warm-up is copied when this "
         "run has none and it is still up to date, and embed and grads copy its rows for samples whose "
         "content is unchanged, computing only the new ones (their manifests count 'computed' and "
         "'reused'). The earlier run is only read. cluster/cron/refresh uses this")
        ("dry-run", po::bool_switch()->default_value(false),
         "run no stage: time each model stage's own code on --dry-run-samples candidates spread over the "
         "corpus (all ranks at once, with a fresh LoRA adapter) and print the forecast time of every stage for "
         "the whole corpus, domain set and pre-selection on this hardware and rank count; written to "
         "RUN/forecast/dry-run.json")
        ("dry-run-samples", po::value<int64_t>()->default_value(256),
         "candidates --dry-run times (at least 2); enough to fill an embed batch (embed.batch_tokens tokens) "
         "and several grads batches gives a steady rate: fewer leave per-call costs in it and forecast too long");
  };
  c.run = run_main;
  return c;
}

}  // namespace ntks::cli
