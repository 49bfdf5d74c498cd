#include "ntks/diagnose/kernel_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "ntks/util/error.h"

namespace ntks::diagnose {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}

double frobenius_norm(const std::vector<double>& a) {
  long double s = 0;
  for (double v : a) s += static_cast<long double>(v) * v;
  return static_cast<double>(std::sqrt(s));
}

double frobenius_cosine(const std::vector<double>& a, const std::vector<double>& b) {
  NTKS_CHECK(a.size() == b.size(), "Frobenius cosine of {} and {} entries", a.size(), b.size());
  long double dot = 0;
  for (size_t i = 0; i < a.size(); ++i) dot += static_cast<long double>(a[i]) * b[i];
  const double na = frobenius_norm(a), nb = frobenius_norm(b);
  if (na == 0 || nb == 0) return kNaN;
  return static_cast<double>(dot / (static_cast<long double>(na) * nb));
}

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  NTKS_CHECK(x.size() == y.size(), "Pearson correlation of {} and {} values", x.size(), y.size());
  const size_t n = x.size();
  if (n < 2) return kNaN;
  long double mx = 0, my = 0;
  for (size_t i = 0; i < n; ++i) mx += x[i], my += y[i];
  mx /= n, my /= n;
  long double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < n; ++i) {
    const long double dx = x[i] - mx, dy = y[i] - my;
    sxy += dx * dy, sxx += dx * dx, syy += dy * dy;
  }
  if (sxx == 0 || syy == 0) return kNaN;
  return static_cast<double>(sxy / std::sqrt(sxx * syy));
}

std::vector<double> ranks(const std::vector<double>& x) {
  std::vector<size_t> order(x.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return x[a] < x[b]; });
  std::vector<double> r(x.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && x[order[j + 1]] == x[order[i]]) ++j;
    const double mean_rank = 0.5 * static_cast<double>(i + j) + 1;  // ranks i+1 .. j+1
    for (size_t k = i; k <= j; ++k) r[order[k]] = mean_rank;
    i = j + 1;
  }
  return r;
}

double spearman(const std::vector<double>& x, const std::vector<double>& y) { return pearson(ranks(x), ranks(y)); }

std::vector<double> upper_triangle(const std::vector<double>& k, int64_t n) {
  NTKS_CHECK(static_cast<int64_t>(k.size()) == n * n, "{} entries for a {} x {} matrix", k.size(), n, n);
  std::vector<double> out;
  out.reserve(static_cast<size_t>(n * (n + 1) / 2));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i; j < n; ++j) out.push_back(k[static_cast<size_t>(i * n + j)]);
  return out;
}

double jl_bound(int64_t n, int64_t d, double delta) {
  NTKS_CHECK(n >= 1 && d >= 1 && delta > 0 && delta < 1, "jl_bound(n={}, d={}, delta={})", n, d, delta);
  const double m = static_cast<double>(n) * static_cast<double>(n);
  // failure(ε) decreases on (0, 1]: bisect for failure(ε) = δ.
  auto failure = [&](double eps) { return 2 * m * std::exp(-static_cast<double>(d) * (eps * eps / 2 - eps * eps * eps / 3) / 2); };
  if (failure(1.0) > delta) return 1.0;
  double lo = 0, hi = 1;
  for (int it = 0; it < 100; ++it) {
    const double mid = 0.5 * (lo + hi);
    (failure(mid) > delta ? lo : hi) = mid;
  }
  return hi;
}

}  // namespace ntks::diagnose
