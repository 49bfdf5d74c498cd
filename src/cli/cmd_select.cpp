// `ntk-select select`: the top select.size candidates and the training
// mixture (DESIGN §2 step 6). The work is select::run_select
// (select/select_stage.h), on rank 0.

#include <fmt/format.h>

#include "command.h"
#include "inputs.h"
#include "ntks/log/log.h"
#include "ntks/select/select_stage.h"

namespace ntks::cli {
namespace {

int select_main(Context& ctx) {
  log::StageScope stage("select");
  const config::Config& cfg = ctx.cfg;
  if (ctx.comm.is_root()) {
    select::SelectOptions o;
    o.run_dir = cfg.run.dir;
    o.size = cfg.select.size;
    o.seed = static_cast<std::uint64_t>(cfg.run.seed);
    o.domain_files = domain_files(cfg);
    o.candidate_files = candidate_files(cfg);
    o.method = cfg.select.method;
    o.data = cfg.data;
    o.index.id_field = cfg.data.fields.id;
    fmt::print("{}", select::summary_text(select::run_select(o)));
    std::fflush(stdout);
  }
  ctx.comm.barrier();  // the other ranks have nothing to do; an error on rank 0 ends them (guard)
  return 0;
}

}  // namespace

Command select_command() {
  Command c;
  c.name = "select";
  c.summary = "the top select.size candidates by score, their lines and the training mixture";
  c.description =
      "Ranks the candidates of RUN/score/scores.h5 (RUN = run.dir) by score (ties: lower record\n"
      "index first) and keeps the best select.size; an error when that is more than were scored.\n"
      "Writes, in RUN/select/: selected.jsonl (their original corpus lines, best first: each\n"
      "line's bytes without its line ending, then \"\\n\"), selected_ids.txt (their ids, same\n"
      "order), scores.h5 (every scored candidate: records, ids, scores, rank 1.. or 0 when not\n"
      "selected, knn_count and mean_distance from RUN/preselect/preselected.h5, or -1 and NaN\n"
      "without it), mixture.jsonl (the domain lines used by `grads` -- those skipped as bad input\n"
      "are not -- and the selected lines, shuffled with run.seed by a portable Fisher-Yates over\n"
      "splitmix64) and report.json (counts, score statistics, sizes, input fingerprints; written\n"
      "last). Reads the corpus files of data.domain and data.candidates, which must be the ones\n"
      "the gradients were computed from. Runs on rank 0; prints a summary on stdout.";
  c.options = [](po::options_description&) {};
  c.run = select_main;
  return c;
}

}  // namespace ntks::cli
