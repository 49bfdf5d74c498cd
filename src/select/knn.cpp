// Exact kNN with Faiss proposals (see include/ntks/select/knn.h for why and how).

#include "ntks/select/knn.h"

// Faiss 1.7 headers use uint8_t without including <cstdint>.
#include <cstdint>

#include <faiss/IndexFlat.h>
#include <faiss/IndexIVFFlat.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <numeric>

#include "ntks/util/error.h"

namespace ntks::select {

namespace {

using idx_t = faiss::Index::idx_t;  // faiss::idx_t only from Faiss 1.7.4

constexpr double kInf = std::numeric_limits<double>::infinity();
// Proposals held at once (distances + labels, 12 bytes each): bounds memory when
// near-ties make k' grow for many queries.
constexpr std::int64_t kMaxProposals = std::int64_t{1} << 24;

struct Entry {
  double dist2;
  std::int64_t record;
  std::int64_t row;
};

// The total order of the header: exact distance, then record; empty slots last.
bool before(const Entry& a, const Entry& b) {
  if ((a.record < 0) != (b.record < 0)) return b.record < 0;
  if (a.dist2 != b.dist2) return a.dist2 < b.dist2;
  return a.record < b.record;
}

double norm(const float* x, std::int64_t dim) {
  double s = 0;
  for (std::int64_t j = 0; j < dim; ++j) s += static_cast<double>(x[j]) * x[j];
  return std::sqrt(s);
}

// Faiss's kp smallest distances and labels (positions in the block, -1 past the
// available rows), ascending, for the queries `which`.
using Propose = std::function<void(const std::vector<std::int64_t>& which, std::int64_t kp, float* dist,
                                   idx_t* labels)>;

struct Block {
  const float* rows;
  std::int64_t n;
  const std::int64_t* records;
  std::int64_t first_row;
  double max_norm;
};

// Merges the block into query q's neighbours if Faiss's kp proposals prove the
// exact top k (header); false when they do not (retry with a larger kp).
bool try_merge(std::int64_t q, const float* query, double query_norm, std::int64_t dim, const Block& b,
               const float* dist, const idx_t* labels, std::int64_t kp, Neighbors& out) {
  const std::int64_t k = out.k;
  const double tol = faiss_l2_tolerance(query_norm, b.max_norm, dim);
  const std::size_t base = static_cast<std::size_t>(q * k);
  std::vector<Entry> merged;
  merged.reserve(static_cast<std::size_t>(k + kp));
  for (std::int64_t i = 0; i < k; ++i)
    merged.push_back({out.dist2[base + i], out.records[base + i], out.rows[base + i]});
  const double tau_run = out.records[base + k - 1] < 0 ? kInf : out.dist2[base + k - 1];
  bool complete = kp >= b.n;  // every row of the block was proposed
  for (std::int64_t j = 0; j < kp; ++j) {
    if (labels[j] < 0) {  // fewer rows than kp to propose from (IVF: in the probed lists)
      complete = true;
      break;
    }
    // Proposals ascend: from here on no exact distance can reach the running top k.
    if (static_cast<double>(dist[j]) - tol > tau_run) break;
    const std::int64_t pos = labels[j];
    const double d2 = exact_dist2(query, b.rows + pos * dim, dim);
    NTKS_CHECK(!std::isnan(d2), "distance of query {} to record {} is NaN", q, b.records[pos]);
    merged.push_back({d2, b.records[pos], b.first_row + pos});
  }
  const auto keep = merged.begin() + k;
  std::partial_sort(merged.begin(), keep, merged.end(), before);
  const Entry& kth = merged[static_cast<std::size_t>(k - 1)];
  const double tau_new = kth.record < 0 ? kInf : kth.dist2;
  if (!complete && !(labels[kp - 1] >= 0 && static_cast<double>(dist[kp - 1]) - tol > tau_new)) return false;
  for (std::int64_t i = 0; i < k; ++i) {
    out.dist2[base + i] = merged[i].dist2;
    out.records[base + i] = merged[i].record;
    out.rows[base + i] = merged[i].row;
  }
  return true;
}

// Every query's neighbours merged with the block's exact top k; the queries
// whose proposals do not prove it are searched again with twice the proposals.
std::int64_t merge_block(const float* queries, const std::vector<double>& query_norms, std::int64_t dim,
                         const Block& b, const Propose& propose, Neighbors& out) {
  if (b.n == 0) return 0;
  std::vector<std::int64_t> pending(static_cast<std::size_t>(out.queries));
  std::iota(pending.begin(), pending.end(), 0);
  std::int64_t kp = std::min(2 * out.k + 16, b.n);
  std::int64_t retries = 0;
  while (!pending.empty()) {
    std::vector<std::int64_t> again;
    const std::int64_t batch = std::max<std::int64_t>(1, kMaxProposals / kp);
    for (std::size_t first = 0; first < pending.size(); first += static_cast<std::size_t>(batch)) {
      const std::vector<std::int64_t> which(pending.begin() + first,
                                            pending.begin() + std::min(pending.size(), first + batch));
      const auto m = static_cast<std::int64_t>(which.size());
      std::vector<float> dist(static_cast<std::size_t>(m * kp));
      std::vector<idx_t> labels(static_cast<std::size_t>(m * kp));
      propose(which, kp, dist.data(), labels.data());
      std::vector<char> ok(which.size());
#pragma omp parallel for schedule(dynamic, 16)
      for (std::int64_t i = 0; i < m; ++i) {
        const std::int64_t q = which[i];
        ok[i] = try_merge(q, queries + q * dim, query_norms[q], dim, b, dist.data() + i * kp,
                          labels.data() + i * kp, kp, out);
      }
      for (std::int64_t i = 0; i < m; ++i)
        if (!ok[i]) again.push_back(which[i]);
    }
    retries += static_cast<std::int64_t>(again.size());
    NTKS_CHECK(again.empty() || kp < b.n, "{} queries unresolved with every row proposed", again.size());
    pending.swap(again);
    kp = std::min(2 * kp, b.n);
  }
  return retries;
}

// Rows of `which` gathered (or the matrix itself when it is all of them in order).
const float* gather(const float* x, std::int64_t n, std::int64_t dim, const std::vector<std::int64_t>& which,
                    std::vector<float>& buffer) {
  if (static_cast<std::int64_t>(which.size()) == n) return x;
  buffer.resize(which.size() * static_cast<std::size_t>(dim));
  for (std::size_t i = 0; i < which.size(); ++i)
    std::memcpy(buffer.data() + i * dim, x + which[i] * dim, sizeof(float) * static_cast<std::size_t>(dim));
  return buffer.data();
}

double max_norm(const float* rows, std::int64_t n, std::int64_t dim) {
  double m = 0;
  for (std::int64_t i = 0; i < n; ++i) m = std::max(m, norm(rows + i * dim, dim));
  return m;
}

void flat_merge(const float* queries, const std::vector<double>& query_norms, std::int64_t dim, const Block& b,
                Neighbors& out, std::int64_t& retries) {
  faiss::IndexFlatL2 index(dim);
  index.add(b.n, b.rows);
  std::vector<float> buffer;
  const Propose propose = [&](const std::vector<std::int64_t>& which, std::int64_t kp, float* dist,
                              idx_t* labels) {
    const float* x = gather(queries, out.queries, dim, which, buffer);
    index.search(static_cast<idx_t>(which.size()), x, kp, dist, labels);
  };
  retries += merge_block(queries, query_norms, dim, b, propose, out);
}

}  // namespace

Neighbors::Neighbors(std::int64_t queries_, std::int64_t k_)
    : queries(queries_),
      k(k_),
      dist2(static_cast<std::size_t>(queries_ * k_), kInf),
      records(static_cast<std::size_t>(queries_ * k_), -1),
      rows(static_cast<std::size_t>(queries_ * k_), -1) {}

double exact_dist2(const float* a, const float* b, std::int64_t dim) {
  double s = 0;
  for (std::int64_t j = 0; j < dim; ++j) {
    const double d = static_cast<double>(a[j]) - static_cast<double>(b[j]);
    s += d * d;
  }
  return s;
}

double faiss_l2_tolerance(double norm_a, double norm_b, std::int64_t dim) {
  const double nu = static_cast<double>(dim + 3) * std::ldexp(1.0, -24);
  const double gamma = nu / (1 - nu);
  const double s = norm_a + norm_b;
  return 2 * gamma * s * s;
}

KnnSearch::KnnSearch(const float* queries, std::int64_t nq, std::int64_t dim, std::int64_t k,
                     const IvfCentroids* ivf, std::int64_t nprobe)
    : nq_(nq), dim_(dim), k_(k), queries_(queries, queries + nq * dim), ivf_(ivf), nprobe_(nprobe),
      result_(nq, k) {
  NTKS_CHECK(nq >= 0 && dim >= 1 && k >= 1, "KnnSearch(nq {}, dim {}, k {})", nq, dim, k);
  query_norms_.resize(static_cast<std::size_t>(nq));
  for (std::int64_t q = 0; q < nq; ++q) query_norms_[q] = norm(queries_.data() + q * dim, dim);
  if (ivf_ != nullptr) {
    NTKS_CHECK(ivf_->dim == dim && nprobe >= 1 && nprobe <= ivf_->nlist, "IVF: dim {} vs {}, nprobe {} of {} lists",
               ivf_->dim, dim, nprobe, ivf_->nlist);
    // Each query's exact nprobe nearest lists: the same on every rank and for any thread count.
    KnnSearch lists(queries_.data(), nq, dim, nprobe);
    std::vector<std::int64_t> ids(static_cast<std::size_t>(ivf_->nlist));
    std::iota(ids.begin(), ids.end(), 0);
    lists.add(ivf_->data.data(), ivf_->nlist, ids.data(), 0);
    probes_ = lists.result().records;
  }
}

KnnSearch::~KnnSearch() = default;

void KnnSearch::add(const float* rows, std::int64_t n, const std::int64_t* records, std::int64_t first_row) {
  if (n == 0) return;
  const Block b{rows, n, records, first_row, max_norm(rows, n, dim_)};
  if (ivf_ == nullptr) {
    flat_merge(queries_.data(), query_norms_, dim_, b, result_, retries_);
    return;
  }
  faiss::IndexFlatL2 quantizer(dim_);
  quantizer.add(ivf_->nlist, ivf_->data.data());
  faiss::IndexIVFFlat index(&quantizer, dim_, static_cast<std::size_t>(ivf_->nlist), faiss::METRIC_L2);
  index.is_trained = true;  // the quantizer holds our centroids: nothing for Faiss to train
  const std::vector<std::int64_t> lists = assign_to_lists(*ivf_, rows, n);
  std::vector<idx_t> positions(static_cast<std::size_t>(n)), assign(lists.begin(), lists.end());
  std::iota(positions.begin(), positions.end(), 0);
  index.add_core(n, rows, positions.data(), assign.data());
  faiss::SearchParametersIVF params;
  params.nprobe = static_cast<std::size_t>(nprobe_);
  params.max_codes = 0;  // scan the probed lists completely
  std::vector<float> buffer;
  std::vector<idx_t> probe_buffer;
  std::vector<float> coarse_dist;
  const Propose propose = [&](const std::vector<std::int64_t>& which, std::int64_t kp, float* dist,
                              idx_t* labels) {
    const auto m = static_cast<std::int64_t>(which.size());
    const float* x = gather(queries_.data(), nq_, dim_, which, buffer);
    probe_buffer.resize(static_cast<std::size_t>(m * nprobe_));
    for (std::int64_t i = 0; i < m; ++i)
      std::copy_n(probes_.begin() + which[i] * nprobe_, nprobe_, probe_buffer.begin() + i * nprobe_);
    coarse_dist.assign(static_cast<std::size_t>(m * nprobe_), 0.0f);  // unused by flat L2 lists
    index.search_preassigned(m, x, kp, probe_buffer.data(), coarse_dist.data(), dist, labels, false, &params);
  };
  retries_ += merge_block(queries_.data(), query_norms_, dim_, b, propose, result_);
}

std::vector<std::int64_t> assign_to_lists(const IvfCentroids& c, const float* rows, std::int64_t n) {
  // In slices of rows: a row's nearest list does not depend on the others,
  // and one search of all n rows as queries would copy them and hold Faiss's
  // proposals for all at once (about 600 MB for the 343K training rows of a
  // 1.8M-candidate corpus).
  constexpr std::int64_t kSlice = 8192;
  std::vector<std::int64_t> ids(static_cast<std::size_t>(c.nlist));
  std::iota(ids.begin(), ids.end(), 0);
  std::vector<std::int64_t> out;
  out.reserve(static_cast<std::size_t>(n));
  for (std::int64_t b = 0; b < n; b += kSlice) {
    const std::int64_t m = std::min(kSlice, n - b);
    KnnSearch nearest(rows + b * c.dim, m, c.dim, 1);
    nearest.add(c.data.data(), c.nlist, ids.data(), 0);
    out.insert(out.end(), nearest.result().records.begin(), nearest.result().records.end());
  }
  return out;
}

IvfCentroids train_ivf(const float* rows, std::int64_t n, std::int64_t dim, std::int64_t nlist, int iterations) {
  NTKS_CHECK(nlist >= 1 && nlist <= n && dim >= 1, "train_ivf: {} lists from {} rows", nlist, n);
  IvfCentroids c;
  c.nlist = nlist;
  c.dim = dim;
  c.data.assign(rows, rows + nlist * dim);
  std::vector<double> sums(static_cast<std::size_t>(nlist * dim));
  std::vector<std::int64_t> counts(static_cast<std::size_t>(nlist));
  for (int it = 0; it < iterations; ++it) {
    const std::vector<std::int64_t> lists = assign_to_lists(c, rows, n);
    std::fill(sums.begin(), sums.end(), 0.0);
    std::fill(counts.begin(), counts.end(), 0);
    for (std::int64_t i = 0; i < n; ++i) {  // row order: the sums do not depend on threads
      const std::int64_t l = lists[i];
      ++counts[l];
      for (std::int64_t j = 0; j < dim; ++j) sums[l * dim + j] += rows[i * dim + j];
    }
    for (std::int64_t l = 0; l < nlist; ++l) {
      if (counts[l] == 0) continue;
      for (std::int64_t j = 0; j < dim; ++j)
        c.data[l * dim + j] = static_cast<float>(sums[l * dim + j] / static_cast<double>(counts[l]));
    }
  }
  return c;
}

Neighbors merge_neighbors(const std::vector<Neighbors>& parts) {
  NTKS_CHECK(!parts.empty(), "merge_neighbors of nothing");
  const std::int64_t nq = parts[0].queries, k = parts[0].k;
  for (const Neighbors& p : parts)
    NTKS_CHECK(p.queries == nq && p.k == k, "merge_neighbors: parts of {}x{} and {}x{}", nq, k, p.queries, p.k);
  Neighbors out(nq, k);
  std::vector<Entry> all;
  for (std::int64_t q = 0; q < nq; ++q) {
    all.clear();
    for (const Neighbors& p : parts)
      for (std::int64_t i = q * k; i < (q + 1) * k; ++i) all.push_back({p.dist2[i], p.records[i], p.rows[i]});
    std::partial_sort(all.begin(), all.begin() + k, all.end(), before);
    for (std::int64_t i = 0; i < k; ++i) {
      out.dist2[q * k + i] = all[i].dist2;
      out.records[q * k + i] = all[i].record;
      out.rows[q * k + i] = all[i].row;
    }
  }
  return out;
}

double recall_at_k(const Neighbors& approx, const std::vector<std::int64_t>& query_rows, const Neighbors& exact) {
  NTKS_CHECK(static_cast<std::int64_t>(query_rows.size()) == exact.queries && approx.k == exact.k,
             "recall of {} queries (k {}) against {} exact ones (k {})", query_rows.size(), approx.k, exact.queries,
             exact.k);
  std::int64_t found = 0, total = 0;
  for (std::int64_t i = 0; i < exact.queries; ++i) {
    const std::int64_t q = query_rows[static_cast<std::size_t>(i)];
    NTKS_CHECK(q >= 0 && q < approx.queries, "query row {} of {}", q, approx.queries);
    const auto first = approx.records.begin() + q * approx.k;
    std::vector<std::int64_t> mine(first, first + approx.k);
    std::sort(mine.begin(), mine.end());
    for (std::int64_t j = 0; j < exact.k; ++j) {
      const std::int64_t r = exact.records[static_cast<std::size_t>(i * exact.k + j)];
      if (r < 0) continue;
      ++total;
      if (std::binary_search(mine.begin(), mine.end(), r)) ++found;
    }
  }
  return total == 0 ? 1.0 : static_cast<double>(found) / static_cast<double>(total);
}

std::string to_bytes(const Neighbors& n) {
  const std::size_t count = n.records.size();
  std::string bytes(2 * sizeof(std::int64_t) + count * (sizeof(double) + 2 * sizeof(std::int64_t)), '\0');
  char* p = bytes.data();
  auto put = [&p](const void* src, std::size_t size) {
    std::memcpy(p, src, size);
    p += size;
  };
  put(&n.queries, sizeof n.queries);
  put(&n.k, sizeof n.k);
  put(n.dist2.data(), count * sizeof(double));
  put(n.records.data(), count * sizeof(std::int64_t));
  put(n.rows.data(), count * sizeof(std::int64_t));
  return bytes;
}

Neighbors neighbors_from_bytes(const std::string& bytes) {
  std::int64_t head[2] = {0, 0};
  NTKS_CHECK(bytes.size() >= sizeof head, "neighbour list of {} bytes", bytes.size());
  std::memcpy(head, bytes.data(), sizeof head);
  NTKS_CHECK(head[0] >= 0 && head[1] >= 1 &&
                 bytes.size() == sizeof head + static_cast<std::size_t>(head[0] * head[1]) * 24,
             "neighbour list of {} bytes for {} queries x {}", bytes.size(), head[0], head[1]);
  Neighbors n(head[0], head[1]);
  const std::size_t count = n.records.size();
  const char* p = bytes.data() + sizeof head;
  std::memcpy(n.dist2.data(), p, count * sizeof(double));
  std::memcpy(n.records.data(), p + count * sizeof(double), count * sizeof(std::int64_t));
  std::memcpy(n.rows.data(), p + count * (sizeof(double) + sizeof(std::int64_t)), count * sizeof(std::int64_t));
  return n;
}

}  // namespace ntks::select
