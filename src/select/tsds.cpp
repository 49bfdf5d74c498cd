// TSDS's prefetch, densities and probabilities (include/ntks/select/tsds.h);
// the transport itself is in tsds_assign.cpp.

#include "ntks/select/tsds.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "ntks/select/gumbel.h"
#include "ntks/util/error.h"

namespace ntks::select {

namespace {

// Queries of one exact KDE search: their neighbour lists (24 bytes an entry)
// stay near 100 MB at kde_k = 1000.
constexpr std::int64_t kKdeQueryChunk = 4096;

void check_tsds_options(const TsdsOptions& o) {
  if (!(o.alpha >= 0 && o.alpha <= 1)) throw UsageError(fmt::format("TSDS alpha must be in [0, 1], not {}", o.alpha));
  if (!(o.c > 0) || !std::isfinite(o.c)) throw UsageError(fmt::format("TSDS C must be positive, not {}", o.c));
  if (!(o.sigma >= 0) || !std::isfinite(o.sigma))
    throw UsageError(fmt::format("TSDS sigma must be finite and >= 0, not {}", o.sigma));
  if (o.max_k < 2) throw UsageError(fmt::format("TSDS max_k must be at least 2, not {}", o.max_k));
  if (o.kde_k < 1) throw UsageError(fmt::format("TSDS kde_k must be at least 1, not {}", o.kde_k));
  if (o.block_rows < 1) throw UsageError(fmt::format("TSDS block_rows must be at least 1, not {}", o.block_rows));
}

void check_candidates(std::int64_t n) {
  if (n < 2) throw UsageError(fmt::format("TSDS needs at least 2 candidates, got {}", n));
}

}  // namespace

std::int64_t tsds_prefetch_size(std::int64_t candidates, const TsdsOptions& options) {
  check_tsds_options(options);
  check_candidates(candidates);
  // TSDS: min(max_K, N // 10); its transport reads neighbour t + 1, so never below 2.
  return std::min(candidates, std::max<std::int64_t>(2, std::min(options.max_k, candidates / 10)));
}

std::int64_t tsds_kde_size(std::int64_t candidates, const TsdsOptions& options) {
  check_tsds_options(options);
  check_candidates(candidates);
  return std::max<std::int64_t>(1, std::min(options.kde_k, candidates / 10));
}

std::vector<double> tsds_mean(const float* rows, std::int64_t n, std::int64_t dim) {
  std::vector<double> mean(static_cast<std::size_t>(dim), 0.0);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < dim; ++j) mean[j] += rows[i * dim + j];
  for (double& m : mean) m /= static_cast<double>(n);
  return mean;
}

std::vector<float> tsds_prepared(const float* rows, std::int64_t n, std::int64_t dim, const std::vector<double>& mean,
                                 bool normalize, const char* what) {
  NTKS_CHECK(mean.empty() || static_cast<std::int64_t>(mean.size()) == dim, "mean of {} for dimension {}", mean.size(),
             dim);
  std::vector<float> out(static_cast<std::size_t>(n * dim));
  for (std::int64_t i = 0; i < n; ++i) {
    float* x = out.data() + i * dim;
    for (std::int64_t j = 0; j < dim; ++j)
      x[j] = mean.empty() ? rows[i * dim + j] : static_cast<float>(rows[i * dim + j] - mean[j]);
    if (!normalize) continue;
    double s = 0;
    for (std::int64_t j = 0; j < dim; ++j) s += static_cast<double>(x[j]) * x[j];
    const double norm = std::sqrt(s);
    if (!(norm > 0) || !std::isfinite(norm))
      throw InputError(fmt::format("TSDS: {} row {} has norm {}{}: it cannot be normalised", what, i, norm,
                                   mean.empty() ? "" : " after centring"));
    for (std::int64_t j = 0; j < dim; ++j) x[j] = static_cast<float>(x[j] / norm);
  }
  return out;
}

Neighbors tsds_prefetch(const float* queries, std::int64_t nq, const float* candidates, std::int64_t n,
                        std::int64_t dim, std::int64_t k, std::int64_t block_rows) {
  NTKS_CHECK(k >= 1 && k <= n && block_rows >= 1, "prefetch of {} of {} rows in blocks of {}", k, n, block_rows);
  KnnSearch search(queries, nq, dim, k);
  std::vector<std::int64_t> ids(static_cast<std::size_t>(std::min(n, block_rows)));
  for (std::int64_t first = 0; first < n; first += block_rows) {
    const std::int64_t rows = std::min(block_rows, n - first);
    std::iota(ids.begin(), ids.begin() + rows, first);
    search.add(candidates + first * dim, rows, ids.data(), first);
  }
  return search.result();
}

std::vector<double> tsds_densities(const float* rows, std::int64_t n, std::int64_t dim, std::int64_t kde_k,
                                   double sigma, std::int64_t first, std::int64_t count, std::int64_t block_rows) {
  if (count < 0) count = n - first;
  NTKS_CHECK(first >= 0 && first + count <= n && kde_k >= 1, "densities of rows {}..{} of {}, kde_k {}", first,
             first + count, n, kde_k);
  std::vector<double> kde(static_cast<std::size_t>(count), 1.0);
  if (sigma == 0 || count == 0) return kde;
  const std::int64_t k = std::min(kde_k, n);
  const double s2 = sigma * sigma;
  for (std::int64_t done = 0; done < count; done += kKdeQueryChunk) {
    const std::int64_t nq = std::min(kKdeQueryChunk, count - done);
    const Neighbors nb = tsds_prefetch(rows + (first + done) * dim, nq, rows, n, dim, k, block_rows);
    for (std::int64_t q = 0; q < nq; ++q) {
      double sum = 0;
      for (std::int64_t t = 0; t < k; ++t) sum += std::max(0.0, 1.0 - nb.dist2[q * k + t] / s2);
      kde[done + q] = sum;
    }
  }
  return kde;
}

std::vector<double> tsds_probs(const Neighbors& prefetch, const TsdsAssignment& assignment, std::int64_t candidates) {
  NTKS_CHECK(assignment.mass.size() == prefetch.rows.size(), "{} masses for {} neighbour entries",
             assignment.mass.size(), prefetch.rows.size());
  std::vector<double> p(static_cast<std::size_t>(candidates), 0.0);
  for (std::size_t e = 0; e < assignment.mass.size(); ++e) {
    NTKS_CHECK(prefetch.rows[e] >= 0 && prefetch.rows[e] < candidates, "neighbour row {} of {}", prefetch.rows[e],
               candidates);
    p[prefetch.rows[e]] += assignment.mass[e];
  }
  return p;
}

TsdsResult tsds_probabilities(const float* queries, std::int64_t nq, const float* candidates, std::int64_t n,
                              std::int64_t dim, const TsdsOptions& options) {
  check_tsds_options(options);
  check_candidates(n);
  if (nq < 1) throw UsageError("TSDS needs at least one domain (query) embedding");
  if (dim < 1) throw UsageError(fmt::format("TSDS: embeddings of dimension {}", dim));
  TsdsResult r;
  r.k = tsds_prefetch_size(n, options);
  r.kde_k = tsds_kde_size(n, options);
  std::vector<float> q_prep, c_prep;
  if (options.center || options.normalize) {
    const std::vector<double> mean = options.center ? tsds_mean(candidates, n, dim) : std::vector<double>();
    q_prep = tsds_prepared(queries, nq, dim, mean, options.normalize, "domain embedding");
    c_prep = tsds_prepared(candidates, n, dim, mean, options.normalize, "candidate embedding");
    queries = q_prep.data();
    candidates = c_prep.data();
  }
  const Neighbors prefetch = tsds_prefetch(queries, nq, candidates, n, dim, r.k, options.block_rows);

  // U: the prefetched rows, ascending; their densities among themselves.
  std::vector<std::int64_t> u(prefetch.rows);
  std::sort(u.begin(), u.end());
  u.erase(std::unique(u.begin(), u.end()), u.end());
  r.prefetched = static_cast<std::int64_t>(u.size());
  std::vector<float> u_rows(u.size() * static_cast<std::size_t>(dim));
  for (std::size_t i = 0; i < u.size(); ++i)
    std::copy_n(candidates + u[i] * dim, dim, u_rows.begin() + static_cast<std::ptrdiff_t>(i) * dim);
  const std::vector<double> u_kde =
      tsds_densities(u_rows.data(), r.prefetched, dim, r.kde_k, options.sigma, 0, -1, options.block_rows);
  std::vector<double> density(prefetch.rows.size());
  for (std::size_t e = 0; e < density.size(); ++e)
    density[e] = u_kde[std::lower_bound(u.begin(), u.end(), prefetch.rows[e]) - u.begin()];

  const TsdsAssignment a = tsds_assign(prefetch, density, options.alpha, options.c);
  r.s = a.s;
  r.probs = tsds_probs(prefetch, a, n);
  r.support = std::count_if(r.probs.begin(), r.probs.end(), [](double p) { return p > 0; });
  return r;
}

std::vector<double> tsds_scores(const std::vector<double>& probs, const std::vector<std::int64_t>& records,
                                std::uint64_t seed) {
  std::vector<double> logp(probs.size());
  for (std::size_t i = 0; i < probs.size(); ++i)
    logp[i] = probs[i] > 0 ? std::log(probs[i]) : -std::numeric_limits<double>::infinity();
  return gumbel_perturbed(logp, records, seed);
}

}  // namespace ntks::select
