#pragma once
// Exact k nearest neighbours under L2 (DESIGN §2 step 3, §4 kNN), found with
// Faiss and made independent of how the base rows are split into blocks and
// ranks.
//
// Why not Faiss's distances as they are: Faiss (BLAS) computes
// |q|^2 + |c|^2 - 2 q.c in float32, and the last bits of the same pair change
// with the pair's position in a block and with the number of BLAS threads, so
// two partitions of the candidates could keep different neighbours at a tie
// or near-tie. Here every kept neighbour carries its exact distance
// (float64 sum over columns in order of (q_j - c_j)^2 from the stored float32
// values, the same for a pair wherever it is computed) and the order is
// (exact distance, record index): a total order, so the top k of a set is
// unique and the top k of a union is the top k of the parts' top k.
//
// Faiss only proposes: a block is searched for k' = 2k + 16 proposals per
// query, the proposals are rescored exactly, and the result is accepted when
// no row Faiss did not propose can beat it: every such row has a Faiss
// distance >= the k'-th one, f_last, and Faiss's error on a pair is at most
//   tol = 2 * gamma_(d+3) * (|q| + max_row |c|)^2,   gamma_n = n u / (1 - n u), u = 2^-24
// (the classical bound for float32 sums of d products, doubled for safety),
// so "f_last - tol > k-th exact distance" proves the top k exact. A query that
// fails the test (many rows within the rounding error of its k-th distance,
// exact duplicates among them) is searched again with k' doubled, up to all
// rows of the block, where the test is trivially true.
//
// IVF: the coarse quantizer is trained by k-means whose assignments use the
// same exact top-1 (ties to the lower list), so centroids never depend on the
// thread count; candidates go to their exact nearest list and each query
// probes its exact `nprobe` nearest lists; Faiss's IndexIVFFlat then scans
// those lists (search_preassigned) and its proposals are checked as above
// against the probed rows. With nprobe = nlist the result is the flat one.
//
// No Faiss header here.

#include <cstdint>
#include <string>
#include <vector>

namespace ntks::select {

/// The k nearest base rows of each query, best first by (dist2, record).
/// Entries beyond the rows seen so far hold record -1, row -1, dist2 +inf.
struct Neighbors {
  std::int64_t queries = 0;
  std::int64_t k = 0;
  std::vector<double> dist2;         ///< [queries * k] exact squared L2 distance
  std::vector<std::int64_t> records; ///< [queries * k] record index of the base row
  std::vector<std::int64_t> rows;    ///< [queries * k] row of the base row in its dataset

  Neighbors() = default;
  Neighbors(std::int64_t queries, std::int64_t k);
};

/// Exact float64 squared L2 distance: sum over j = 0 .. dim-1, in that order,
/// of (double(a[j]) - double(b[j]))^2.
double exact_dist2(const float* a, const float* b, std::int64_t dim);

/// The Faiss error bound above for vectors of norms at most `norm_a`, `norm_b`.
double faiss_l2_tolerance(double norm_a, double norm_b, std::int64_t dim);

/// Trained IVF coarse quantizer: `nlist` centroids, row-major float32.
struct IvfCentroids {
  std::int64_t nlist = 0;
  std::int64_t dim = 0;
  std::vector<float> data;
};

/// k-means (Lloyd) over `n` training rows: starts from rows
/// 0 .. nlist-1 (callers pass a seeded sample, so that is a random start),
/// `iterations` rounds of exact nearest-centroid assignment (ties to the lower
/// centroid) and float64 means summed in row order; a centroid that loses all
/// its rows stays where it was. The result depends only on the rows.
/// InternalError unless 1 <= nlist <= n.
IvfCentroids train_ivf(const float* rows, std::int64_t n, std::int64_t dim, std::int64_t nlist,
                       int iterations = 10);

/// Running exact k nearest neighbours of fixed queries over base rows given
/// block by block (any split gives the same result).
class KnnSearch {
 public:
  /// `queries` [nq, dim] is copied. With `ivf` (non-null) the search is IVF
  /// with `nprobe` lists per query (1 <= nprobe <= nlist); otherwise exact.
  KnnSearch(const float* queries, std::int64_t nq, std::int64_t dim, std::int64_t k,
            const IvfCentroids* ivf = nullptr, std::int64_t nprobe = 1);
  ~KnnSearch();
  KnnSearch(const KnnSearch&) = delete;
  KnnSearch& operator=(const KnnSearch&) = delete;

  /// Merges the base rows [n, dim] (records[i] = record index of row i, its
  /// dataset row first_row + i) into every query's neighbours.
  void add(const float* rows, std::int64_t n, const std::int64_t* records, std::int64_t first_row);

  const Neighbors& result() const { return result_; }
  /// Faiss searches repeated with a larger k' (near-ties), for the log.
  std::int64_t retries() const { return retries_; }
  /// The lists each query probes (IVF only): [nq * nprobe], nearest first.
  const std::vector<std::int64_t>& probes() const { return probes_; }

 private:
  std::int64_t nq_, dim_, k_;
  std::vector<float> queries_;
  std::vector<double> query_norms_;
  const IvfCentroids* ivf_;
  std::int64_t nprobe_;
  std::vector<std::int64_t> probes_;
  Neighbors result_;
  std::int64_t retries_ = 0;
};

/// The exact nearest centroid of each row (ties to the lower list).
std::vector<std::int64_t> assign_to_lists(const IvfCentroids& c, const float* rows, std::int64_t n);

/// Per query, the k best of all parts' entries (same queries and k) by
/// (dist2, record): the neighbours over the union of the parts' base rows.
Neighbors merge_neighbors(const std::vector<Neighbors>& parts);

/// Recall@k of an approximate search: over the queries of `exact` (query i
/// of `exact` is query query_rows[i] of `approx`, same k), the share of the
/// exact neighbours (record >= 0) that the approximate list of that query
/// holds. 1 when `exact` holds no neighbour.
double recall_at_k(const Neighbors& approx, const std::vector<std::int64_t>& query_rows, const Neighbors& exact);

/// Byte form for communicator::gatherv_bytes; from_bytes checks the size
/// (InternalError when it does not match).
std::string to_bytes(const Neighbors& n);
Neighbors neighbors_from_bytes(const std::string& bytes);

}  // namespace ntks::select
