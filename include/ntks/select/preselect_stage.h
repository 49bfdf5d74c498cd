#pragma once
// `ntk-select preselect` (DESIGN §2 step 3, §4 kNN): the candidates nearest
// to the domain set in embedding space. Reads (RUN = run.dir)
// RUN/embed/domain.h5 and RUN/embed/candidates.json, writes on rank 0
// RUN/preselect/preselected.h5 (see preselected.h) and
// RUN/preselect/preselected_ids.txt (one id per line, best first).

#include <cstdint>
#include <string>
#include <vector>

namespace ntks::dist {
class Communicator;
}

namespace ntks::select {

struct PreselectOptions {
  std::string run_dir;                       ///< RUN (run.dir)
  std::vector<std::string> domain_files;     ///< data.domain: checked against the embeddings' corpus (empty: not)
  std::vector<std::string> candidate_files;  ///< data.candidates: likewise
  std::int64_t k = 100;                      ///< neighbours per domain point (preselect.k)
  std::int64_t size = 0;                     ///< m, the candidates kept (resolved preselect.size)
  bool ivf = false;                          ///< preselect.index: ivf (else flat, exact)
  std::int64_t nlist = 0;                    ///< IVF lists; 0: 4 sqrt(candidates)
  std::int64_t nprobe = 32;                  ///< IVF lists probed per domain point
  bool gpu = false;                          ///< preselect.gpu
  std::uint64_t seed = 0;                    ///< run.seed: the IVF training sample
  std::int64_t chunk_rows = 0;               ///< candidate rows read at once per rank; 0: about 32 MiB
  std::int64_t recall_sample = 64;           ///< IVF: domain points also searched exactly (preselect.recall_sample)
};

struct PreselectSummary {
  std::string path, ids_path;                ///< the two outputs
  std::int64_t domain_rows = 0, candidate_rows = 0, dim = 0;
  std::int64_t k = 0;                        ///< after clamping to the candidates
  std::int64_t size = 0;                     ///< m asked for
  std::int64_t with_count = 0;               ///< candidates in some domain point's top k
  std::int64_t retries = 0;                  ///< Faiss searches repeated for near-ties (this rank)
  std::int64_t recall_queries = 0;           ///< IVF: domain points whose recall was measured (0: none)
  double recall = -1;                        ///< IVF: their recall@k against the exact search (-1: not measured)
  std::vector<std::int64_t> records;         ///< the kept records, best first (every rank)
  double seconds = 0;
};

/// Collective over `comm`. Rank 0 checks the options and inputs first while the
/// others wait (an error ends the job once). Every rank searches a contiguous,
/// balanced part of the candidate rows, read in chunks, for all domain points;
/// rank 0 merges the exact neighbour lists (knn.h), ranks the candidates
/// (relevance.h), writes the outputs and broadcasts the kept records. The
/// result does not depend on the number of ranks or threads.
PreselectSummary run_preselect(const PreselectOptions& options, dist::Communicator& comm);

}  // namespace ntks::select
