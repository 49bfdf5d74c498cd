// `ntk-select score`: the NTK utility of every candidate (DESIGN §2 step 5).
// The work is select::run_score (select/score_stage.h).

#include "command.h"
#include "inputs.h"
#include "ntks/config/enums.h"
#include "ntks/log/log.h"
#include "ntks/select/score_stage.h"

namespace ntks::cli {
namespace {

int score_main(Context& ctx) {
  log::StageScope stage("score");
  select::ScoreOptions o;
  o.run_dir = ctx.cfg.run.dir;
  o.rule = ctx.cfg.score.rule;
  o.shrink = ctx.cfg.score.shrink;
  o.method = ctx.cfg.select.method;
  o.candidate_files = ctx.cfg.data.candidates;
  o.data = ctx.cfg.data;
  o.seed = static_cast<uint64_t>(ctx.cfg.run.seed);
  o.less_max = ctx.cfg.less.reduce == config::LessReduce::max;
  o.domain_files = domain_files(ctx.cfg);
  o.dsir = ctx.cfg.dsir;
  o.tsds = ctx.cfg.tsds;
  const select::ScoreSummary s = select::run_score(o, ctx.comm);
  if (s.method == config::SelectMethod::ntk) {
    log::info0("{}: {} {}candidates scored by {} (d = {}); scores {:.6g} .. {:.6g}, mean {:.6g}", s.path, s.rows,
               s.preselected ? "pre-selected " : "", config::to_string(s.rule), s.dim, s.min, s.max, s.mean);
  } else {
    log::info0("{}: {} {}candidates scored for select.method {}{}", s.path, s.rows,
               s.preselected ? "pre-selected " : "", config::to_string(s.method),
               s.skipped > 0 ? fmt::format(" ({} corpus lines skipped: not records)", s.skipped) : "");
  }
  return 0;
}

}  // namespace

Command score_command() {
  Command c;
  c.name = "score";
  c.summary = "NTK utility of every candidate: its projected gradient dotted with the domain mean";
  c.description =
      "score.rule ntk (the paper's): s(c) = <g(c), mean over the domain of g>, g the projected\n"
      "per-sample LoRA gradients of `ntk-select grads`. score.rule lda (beyond the paper): Fisher's\n"
      "discriminant between domain and candidate gradients, s(c) = (g(c) - mu_C)^T (Sigma + lambda\n"
      "I)^-1 (mu_D - mu_C), Sigma their pooled covariance and lambda = score.shrink x its mean\n"
      "eigenvalue; rank 0 fits it from RUN/grads/domain.h5 and the candidate rows (dim^2 doubles\n"
      "of memory) and broadcasts it. Reads (RUN = run.dir) RUN/grads/domain_mean.h5 and\n"
      "RUN/grads/candidates.json, which must come from the same model, adapter and grads\n"
      "settings; when RUN/preselect/preselected.h5 exists, the candidate rows must be exactly the\n"
      "pre-selected records. Each rank scores a contiguous part of the rows; every score is one\n"
      "float64 sum in column order, so the result does not depend on the number of ranks.\n"
      "Writes RUN/score/scores.h5 (records, ids, scores; rows in record order; the rule, shrink\n"
      "and lambda in its metadata).\n\n"
      "The baselines of select.method score otherwise, into the same file: knn gives each\n"
      "pre-selected candidate count - d / (1 + d) (d its mean kNN distance: the pre-selection's own\n"
      "order) from RUN/preselect/preselected.h5; random gives every record of data.candidates that\n"
      "parses a key in [0, 1) from run.seed and its content hash (a uniform draw without\n"
      "replacement, the same for every domain set; no model is read); less gives every candidate the\n"
      "max (less.reduce) over domain samples of the cosine between its gradient row (an Adam\n"
      "direction) and the domain sample's, from RUN/grads/domain.h5 and RUN/grads/candidates.json;\n"
      "dsir gives every record of data.candidates that parses DSIR's log importance weight of its\n"
      "hashed n-grams (dsir.*: the domain set's bag-of-n-grams model against the pool's; no model),\n"
      "plus Gumbel noise from run.seed (dsir.resample gumbel: the top M are drawn in proportion to\n"
      "the weights); tsds gives every embedded candidate log p + Gumbel noise, p TSDS's optimal-\n"
      "transport alignment of RUN/embed/candidates.json to RUN/embed/domain.h5 with its density\n"
      "(diversity) term (tsds.*), computed on rank 0.";
  c.options = [](po::options_description&) {};
  c.run = score_main;
  return c;
}

}  // namespace ntks::cli
