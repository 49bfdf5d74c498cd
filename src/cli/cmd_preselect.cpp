// `ntk-select preselect`: kNN pre-selection of candidates near the domain set
// in embedding space (DESIGN §2 step 3). The work is select::run_preselect
// (select/preselect_stage.h); exact-kNN details in select/knn.h.

#include "command.h"
#include "inputs.h"
#include "ntks/config/enums.h"
#include "ntks/log/log.h"
#include "ntks/log/progress.h"
#include "ntks/select/preselect_stage.h"
#include "ntks/util/error.h"

namespace ntks::cli {
namespace {

int preselect_main(Context& ctx) {
  log::StageScope stage("preselect");
  const config::Config& cfg = ctx.cfg;
  select::PreselectOptions o;
  o.run_dir = cfg.run.dir;
  // The corpora are only compared with what the embeddings were computed from.
  if (!cfg.data.domain.empty()) o.domain_files = domain_files(cfg);
  if (!cfg.data.candidates.empty()) o.candidate_files = candidate_files(cfg);
  o.k = cfg.preselect.k;
  o.size = config::preselect_size(cfg);
  o.ivf = cfg.preselect.index == config::IndexKind::ivf;
  o.nlist = cfg.preselect.nlist;
  o.nprobe = cfg.preselect.nprobe;
  o.gpu = cfg.preselect.gpu;
  o.seed = static_cast<std::uint64_t>(cfg.run.seed);
  o.chunk_rows = ctx.args["chunk-rows"].as<std::int64_t>();
  o.recall_sample = cfg.preselect.recall_sample;
  if (o.chunk_rows < 0) throw UsageError("--chunk-rows must be 0 (automatic) or more");
  const select::PreselectSummary s = select::run_preselect(o, ctx.comm);
  log::info0("preselect: {} domain points, {} candidates (d = {}), k = {}, index {}: {} candidates in some top k, "
             "kept {} of m = {} in {} -> {}",
             s.domain_rows, s.candidate_rows, s.dim, s.k, config::to_string(cfg.preselect.index), s.with_count,
             s.records.size(), s.size, log::format_duration(s.seconds), s.path);
  return 0;
}

}  // namespace

Command preselect_command() {
  Command c;
  c.name = "preselect";
  c.computes = true;
  c.summary = "kNN pre-selection: the candidates nearest to the domain set in embedding space";
  c.description =
      "For every domain embedding, its k nearest candidate embeddings under L2 (preselect.k);\n"
      "a candidate's relevance is the number of domain points whose k nearest hold it. Keeps the\n"
      "m most relevant (ties: lower mean distance, then lower record index), m = preselect.size,\n"
      "or preselect.multiple x select.size when size is 0.\n"
      "\n"
      "Reads (RUN = run.dir) RUN/embed/domain.h5 and RUN/embed/candidates.json from `ntk-select\n"
      "embed`; both must come from the same model, adapter and settings (only the corpus may\n"
      "differ), and from the corpora data.domain and data.candidates when those are set.\n"
      "Writes on rank 0:\n"
      "  RUN/preselect/preselected.h5       records (global record index in data.candidates), ids,\n"
      "                                     counts, mean_distance (Euclidean), best first, and the\n"
      "                                     inputs' metadata (docs/store-format.md)\n"
      "  RUN/preselect/preselected_ids.txt  the same ids, one per line, best first (input of\n"
      "                                     `ntk-select grads --ids-file`)\n"
      "\n"
      "Config: preselect.k, preselect.size / preselect.multiple, preselect.index (flat: exact;\n"
      "ivf: inverted lists, approximate: preselect.nlist lists, 0 = 4 sqrt(candidates), trained\n"
      "by k-means on a run.seed sample; preselect.nprobe lists searched per domain point; with\n"
      "nprobe = nlist it equals flat; preselect.recall_sample domain points are also searched\n"
      "exactly and the IVF's recall@k on them is logged and kept in the metadata).\n"
      "preselect.gpu: true is refused: there is no GPU kNN path (Debian's Faiss is CPU-only). k\n"
      "larger than the corpus is lowered to the corpus size with a warning; a domain set larger\n"
      "than the corpus is an error.\n"
      "\n"
      "Each rank searches a contiguous part of the candidate rows, read in chunks, for all domain\n"
      "points; rank 0 merges the lists. Distances are recomputed exactly (float64) and ordered by\n"
      "(distance, record index), so the result is the same for any number of ranks and threads.";
  c.options = [](po::options_description& o) {
    o.add_options()("chunk-rows", po::value<std::int64_t>()->default_value(0),
                    "candidate rows read and searched at once per rank; 0: about 32 MiB of them");
  };
  c.run = preselect_main;
  return c;
}

}  // namespace ntks::cli
