#include "ntks/report/pca.h"

#include <algorithm>
#include <cmath>

#include "ntks/util/error.h"

namespace ntks::report {
namespace {

using Vec = std::vector<double>;

double dot(const Vec& a, const Vec& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// Makes b orthogonal to unit a, then unit; false when nothing is left.
bool orthonormalize(const Vec& a, Vec& b) {
  const double p = dot(a, b);
  for (size_t i = 0; i < b.size(); ++i) b[i] -= p * a[i];
  const double n = std::sqrt(dot(b, b));
  if (!(n > 0)) return false;
  for (double& v : b) v /= n;
  return true;
}

bool normalize(Vec& a) {
  const double n = std::sqrt(dot(a, a));
  if (!(n > 0)) return false;
  for (double& v : a) v /= n;
  return true;
}

// The largest coordinate (by magnitude) made positive.
void fix_sign(Vec& v) {
  size_t at = 0;
  for (size_t i = 1; i < v.size(); ++i)
    if (std::abs(v[i]) > std::abs(v[at])) at = i;
  if (!v.empty() && v[at] < 0)
    for (double& x : v) x = -x;
}

}  // namespace

Pca2 pca2(const std::vector<float>& rows, std::int64_t n, std::int64_t dim, int max_iterations) {
  NTKS_CHECK(n >= 0 && dim > 0 && static_cast<std::int64_t>(rows.size()) == n * dim, "pca2: {} values for {} x {}",
             rows.size(), n, dim);
  Pca2 out;
  out.x.assign(static_cast<size_t>(n), 0.0);
  out.y.assign(static_cast<size_t>(n), 0.0);
  if (n < 2) return out;
  const auto d = static_cast<size_t>(dim);
  Vec mean(d, 0.0);
  for (std::int64_t i = 0; i < n; ++i)
    for (size_t j = 0; j < d; ++j) mean[j] += rows[static_cast<size_t>(i) * d + j];
  for (double& m : mean) m /= static_cast<double>(n);
  for (std::int64_t i = 0; i < n; ++i)
    for (size_t j = 0; j < d; ++j) {
      const double c = rows[static_cast<size_t>(i) * d + j] - mean[j];
      out.total_variance += c * c;
    }
  out.total_variance /= static_cast<double>(n - 1);
  if (!(out.total_variance > 0)) return out;

  // C a and C b in two passes over the rows: u = Xc v per row, then Xc^T u / (n - 1).
  Vec ua(static_cast<size_t>(n)), ub(static_cast<size_t>(n));
  auto times_cov = [&](const Vec& a, const Vec& b, Vec& ca, Vec& cb) {
    const double ma = dot(mean, a), mb = dot(mean, b);
    for (std::int64_t i = 0; i < n; ++i) {
      const float* r = rows.data() + static_cast<size_t>(i) * d;
      double sa = 0, sb = 0;
      for (size_t j = 0; j < d; ++j) sa += r[j] * a[j], sb += r[j] * b[j];
      ua[static_cast<size_t>(i)] = sa - ma, ub[static_cast<size_t>(i)] = sb - mb;
    }
    ca.assign(d, 0.0), cb.assign(d, 0.0);
    double sa = 0, sb = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      const float* r = rows.data() + static_cast<size_t>(i) * d;
      const double x = ua[static_cast<size_t>(i)], y = ub[static_cast<size_t>(i)];
      sa += x, sb += y;
      for (size_t j = 0; j < d; ++j) ca[j] += x * r[j], cb[j] += y * r[j];
    }
    for (size_t j = 0; j < d; ++j)
      ca[j] = (ca[j] - sa * mean[j]) / static_cast<double>(n - 1),
      cb[j] = (cb[j] - sb * mean[j]) / static_cast<double>(n - 1);
  };

  // A fixed start that is unlikely to be orthogonal to any component.
  Vec a(d), b(d), ca, cb;
  for (size_t j = 0; j < d; ++j) {
    a[j] = 1.0 + 0.5 * std::sin(1.0 + static_cast<double>(j));
    b[j] = std::cos(0.7 * static_cast<double>(j) + 0.3);
  }
  normalize(a);
  bool two = d > 1 && orthonormalize(a, b);
  // Stops when both directions move by less than ~1e-5 rad in a step (far
  // below what a plot shows), or after max_iterations when the second and
  // third variances are too close for the second axis to settle.
  for (int it = 0; it < max_iterations; ++it) {
    out.iterations = it + 1;
    times_cov(a, two ? b : a, ca, cb);
    if (!normalize(ca)) break;
    const bool nb_ok = two && orthonormalize(ca, cb);
    const double change = 1 - std::abs(dot(ca, a)) + (nb_ok ? 1 - std::abs(dot(cb, b)) : 0);
    a.swap(ca);
    if (nb_ok) b.swap(cb);
    two = nb_ok;
    if (change < 1e-10) break;
  }
  // Rayleigh-Ritz on span{a, b}: the 2x2 problem's eigenvectors, largest first.
  times_cov(a, two ? b : a, ca, cb);
  double laa = dot(a, ca), lab = 0, lbb = 0;
  if (two) {
    lab = dot(a, cb), lbb = dot(b, cb);
    const double theta = 0.5 * std::atan2(2 * lab, laa - lbb);
    const double c = std::cos(theta), s = std::sin(theta);
    Vec ra(d), rb(d);
    for (size_t j = 0; j < d; ++j) ra[j] = c * a[j] + s * b[j], rb[j] = -s * a[j] + c * b[j];
    const double l1 = c * c * laa + 2 * c * s * lab + s * s * lbb, l2 = s * s * laa - 2 * c * s * lab + c * c * lbb;
    a.swap(ra), b.swap(rb);
    laa = l1, lbb = l2;
    if (lbb > laa) std::swap(a, b), std::swap(laa, lbb);
  }
  fix_sign(a);
  if (two) fix_sign(b);
  out.variance[0] = std::max(0.0, laa);
  out.variance[1] = two ? std::max(0.0, lbb) : 0.0;
  const double ma = dot(mean, a), mb = two ? dot(mean, b) : 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const float* r = rows.data() + static_cast<size_t>(i) * d;
    double sa = 0, sb = 0;
    for (size_t j = 0; j < d; ++j) sa += r[j] * a[j], sb += two ? r[j] * b[j] : 0.0;
    out.x[static_cast<size_t>(i)] = sa - ma;
    out.y[static_cast<size_t>(i)] = two ? sb - mb : 0.0;
  }
  return out;
}

}  // namespace ntks::report
