#include "ntks/select/discriminant.h"

#include <torch/torch.h>

#include <algorithm>

#include "ntks/features/feature_set.h"
#include "ntks/store/feature_file.h"
#include "ntks/util/error.h"

namespace ntks::select {
namespace {

/// Calls f(tensor of float64 rows [count, dim]) over all rows of a source in order.
template <class Source, class F>
void for_chunks(const Source& src, int64_t chunk, F&& f) {
  const int64_t n = src.rows(), dim = src.dim();
  std::vector<float> buf(static_cast<size_t>(std::min(chunk, std::max<int64_t>(n, 1)) * dim));
  for (int64_t b = 0; b < n; b += chunk) {
    const int64_t count = std::min(chunk, n - b);
    src.read_rows(b, count, buf.data());
    f(torch::from_blob(buf.data(), {count, dim}, at::kFloat).to(at::kDouble));
  }
}

template <class Source>
at::Tensor mean_of(const Source& src, int64_t chunk) {
  at::Tensor sum = torch::zeros({src.dim()}, at::kDouble);
  for_chunks(src, chunk, [&](const at::Tensor& x) { sum += x.sum(0); });
  return sum / static_cast<double>(src.rows());
}

template <class Source>
void add_scatter(const Source& src, const at::Tensor& mean, int64_t chunk, at::Tensor& scatter) {
  for_chunks(src, chunk, [&](const at::Tensor& x) {
    const at::Tensor c = x - mean;
    scatter.addmm_(c.t(), c);
  });
}

}  // namespace

Discriminant fit_discriminant(const store::FeatureReader& domain, const features::FeatureSet& candidates,
                              double shrink, int64_t chunk_rows) {
  const int64_t dim = candidates.dim();
  NTKS_CHECK(domain.dim() == dim, "domain rows have {} columns, candidates {}", domain.dim(), dim);
  NTKS_CHECK(shrink > 0 && chunk_rows > 0, "shrink {} chunk {}", shrink, chunk_rows);
  const double bytes = 8.0 * static_cast<double>(dim) * static_cast<double>(dim);
  if (bytes > 4.0 * (1ull << 30))
    throw InputError(fmt::format("score.rule lda needs the {0} x {0} gradient covariance ({1:.1f} GiB); lower "
                                 "grads.dim or use score.rule ntk",
                                 dim, bytes / (1ull << 30)));
  if (domain.rows() < 2 || candidates.rows() < 2)
    throw InputError(fmt::format("score.rule lda needs at least 2 domain and 2 candidate gradient rows (there are {} "
                                 "and {})",
                                 domain.rows(), candidates.rows()));
  torch::NoGradGuard no_grad;
  const at::Tensor mu_d = mean_of(domain, chunk_rows), mu_c = mean_of(candidates, chunk_rows);
  at::Tensor sigma = torch::zeros({dim, dim}, at::kDouble);
  add_scatter(domain, mu_d, chunk_rows, sigma);
  add_scatter(candidates, mu_c, chunk_rows, sigma);
  const int64_t rows = domain.rows() + candidates.rows();
  sigma /= static_cast<double>(rows);
  Discriminant d;
  d.rows = rows;
  d.lambda = shrink * sigma.trace().item<double>() / static_cast<double>(std::min(rows, dim));
  if (!(d.lambda > 0))
    throw InputError("score.rule lda: every gradient row is the same (zero covariance); nothing to discriminate");
  sigma.diagonal().add_(d.lambda);
  const at::Tensor L = torch::linalg_cholesky(sigma);
  const at::Tensor w = torch::cholesky_solve((mu_d - mu_c).unsqueeze(1), L).squeeze(1).contiguous();
  d.w.assign(w.data_ptr<double>(), w.data_ptr<double>() + dim);
  d.offset = (mu_c * w).sum().item<double>();
  return d;
}

}  // namespace ntks::select
