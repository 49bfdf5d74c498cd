#pragma once
// TSDS, task-specific data selection (Liu, Karbasi, Rekatsinas 2024;
// github.com/ZifanL/TSDS, tsds.py), as a scoring core: selection
// probabilities over the candidates from the domain (query) and candidate
// embeddings, and the scores whose top M draws M distinct candidates.
//
// With n queries q_j, N candidates and the neighbourhood sizes
//   K   = min(max_k, N / 10) (at least 2)   prefetched neighbours per query
//   K_d = min(kde_k, N / 10) (at least 1)   KDE neighbourhood
// TSDS computes:
//   prefetch  each query's K nearest candidates under L2, nearest first;
//             d_jt = the distance of its t-th one (not squared)
//   KDE       for every prefetched candidate x, over the set U of all
//             prefetched candidates: kde(x) = sum over the K_d members of U
//             nearest to x (x itself included) of max(0, 1 - |x - u|^2 / sigma^2)
//             (a truncated kernel: only near-duplicates within sigma count);
//             kde = 1 everywhere when sigma = 0
//   OT        every query sends mass 1/n along its neighbour list; at level s a
//             neighbour may receive at most 1/(n s kde), the first ones take
//             their cap and the next takes the rest. The breakpoints of query
//             j are c_jt = sum_{i<=t} 1/kde_ji. Popping all (c_jt, t, j) in
//             increasing order (t < K - 1), after each pop of (c, t, j):
//             cost_j = sum_{i<=t} (d_j,t+1 - d_ji) / kde_ji, and TSDS stops at
//             the first pop where  alpha / C * sum_j cost_j >= (1 - alpha) * n,
//             with s = that pop's c and every other query at its last popped t
//             (the stopping query one step before): TSDS's solution of its
//             objective, alpha/C times the optimal-transport cost from the
//             queries plus (1 - alpha) times the KDE-weighted diversity term.
//   p         p(x) = sum over the queries of the mass they send to x; sums to 1.
//
// Defaults: alpha 0.5, C 5, sigma 0.75, max_k 5000, kde_k 1000, from TSDS's
// config.yaml (the values the NTK-Selector paper, A.6.2, says it adopted; its
// extracted text lost the numbers). TSDS samples its M draws with replacement
// in proportion to p (np.random.multinomial), so a record can come more than
// once; tsds_scores() gives M distinct ones: the first M distinct records of
// such a stream of draws are distributed exactly as the Gumbel top-M.
//
// Departures: neighbours are exact (knn.h; TSDS searches a Faiss IVF index with
// nprobe 10), ties ordered by (distance, row); a query whose first breakpoint
// lies above s sends all its mass to its nearest neighbour (TSDS's code fails
// its own assertion there). And the embeddings are prepared (ours; TSDS takes
// them as given): centred on the candidates' mean, then L2-normalised. TSDS's
// C and sigma are on the scale of unit vectors ("C in the same scale as the
// norm of the embeddings"), and mean-pooled hidden states share one dominant
// direction: on the demo's medicine pool (5000 x 256) 96% of the normalised
// candidate pairs lie within sigma = 0.75 of each other, so the KDE would call
// everything a near-duplicate; centred first, 0.8% do. Every step is exact or
// summed in a fixed order, so the probabilities do not depend on thread counts
// or blocking.

#include <cstdint>
#include <vector>

#include "ntks/select/knn.h"

namespace ntks::select {

struct TsdsOptions {
  double alpha = 0.5;              ///< alignment-diversity trade-off in [0, 1] (TSDS's alpha)
  double c = 5.0;                  ///< scale constant C > 0, of the order of the embeddings' norm (TSDS's C)
  double sigma = 0.75;             ///< KDE kernel size >= 0; 0: no KDE, every density 1 (TSDS's sigma)
  std::int64_t max_k = 5000;       ///< prefetched neighbours per query, before the N/10 cap (TSDS's max_K)
  std::int64_t kde_k = 1000;       ///< KDE neighbourhood, before the N/10 cap (TSDS's kde_K)
  bool center = true;              ///< subtract the candidates' mean from every row first (ours; see above)
  bool normalize = true;           ///< then L2-normalise queries and candidates (ours; see above)
  std::int64_t block_rows = 65536; ///< rows per exact kNN block (memory only, never the result)
};

/// K and K_d above for N candidates. UsageError when N < 2 or an option is out of range.
std::int64_t tsds_prefetch_size(std::int64_t candidates, const TsdsOptions& options);
std::int64_t tsds_kde_size(std::int64_t candidates, const TsdsOptions& options);

/// The mean of rows [n, dim]: per column a float64 sum in row order, over n.
std::vector<double> tsds_mean(const float* rows, std::int64_t n, std::int64_t dim);

/// A copy of rows [n, dim] less `mean` (when not empty; float64, rounded to
/// float32), then, with `normalize`, each divided by its L2 norm (a float64
/// sum over the columns in order; the quotient rounded to float32). InputError
/// naming `what` and the row when a row to normalise is zero or not finite.
std::vector<float> tsds_prepared(const float* rows, std::int64_t n, std::int64_t dim, const std::vector<double>& mean,
                                 bool normalize, const char* what);

/// The `k` nearest candidates [n, dim] of every query [nq, dim], exact, best
/// first by (distance, row); records and rows are candidate row indices.
Neighbors tsds_prefetch(const float* queries, std::int64_t nq, const float* candidates, std::int64_t n,
                        std::int64_t dim, std::int64_t k, std::int64_t block_rows = 65536);

/// TSDS's density among all of `rows` [n, dim] (KDE above) of each of the
/// rows first .. first + count - 1 (count -1: to the end): exact, a sum over
/// its kde_k nearest in (distance, row) order. Each density is computed alone,
/// so ranks can take slices of the rows and concatenate their results.
std::vector<double> tsds_densities(const float* rows, std::int64_t n, std::int64_t dim, std::int64_t kde_k,
                                   double sigma, std::int64_t first = 0, std::int64_t count = -1,
                                   std::int64_t block_rows = 65536);

/// The transport of TSDS from the prefetched neighbours (K >= 2 per query, no
/// empty entries) and the density of each of their entries ([queries * K]).
struct TsdsAssignment {
  std::vector<double> mass;        ///< [queries * K] what each query sends to each neighbour; 1/queries per query
  std::vector<std::int64_t> last;  ///< per query: neighbours 0..last take their cap, last + 1 the rest (-1: all to 0)
  double s = 0;                    ///< the level where TSDS stops
  std::int64_t pops = 0;           ///< breakpoints popped, the stopping one included
};
TsdsAssignment tsds_assign(const Neighbors& prefetch, const std::vector<double>& density, double alpha, double c);

/// p over `candidates` rows: the mass of every entry added to its row, query by
/// query, neighbours in order.
std::vector<double> tsds_probs(const Neighbors& prefetch, const TsdsAssignment& assignment, std::int64_t candidates);

struct TsdsResult {
  std::vector<double> probs;     ///< [N] selection probability of each candidate row; sums to 1
  double s = 0;                  ///< TSDS's level s
  std::int64_t k = 0;            ///< prefetched neighbours per query (K)
  std::int64_t kde_k = 0;        ///< KDE neighbourhood (K_d)
  std::int64_t prefetched = 0;   ///< distinct candidates in the prefetched lists (|U|)
  std::int64_t support = 0;      ///< candidates with p > 0: at most this many can be drawn
};

/// The whole of TSDS on one process: queries [nq, dim], candidates [n, dim].
/// UsageError for nq < 1, n < 2 or options out of range. Across ranks the
/// same steps split: tsds_prefetch per candidate range (records = global rows)
/// merged with merge_neighbors, tsds_densities per slice of the prefetched
/// rows, then tsds_assign and tsds_probs on one rank; the result is the same.
TsdsResult tsds_probabilities(const float* queries, std::int64_t nq, const float* candidates, std::int64_t n,
                              std::int64_t dim, const TsdsOptions& options);

/// Scores whose top M (select/topk.h) is M distinct draws in proportion to
/// probs: log p + gumbel_noise(seed, record), -inf where p = 0.
std::vector<double> tsds_scores(const std::vector<double>& probs, const std::vector<std::int64_t>& records,
                                std::uint64_t seed);

}  // namespace ntks::select
