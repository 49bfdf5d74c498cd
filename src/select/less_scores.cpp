#include "ntks/select/less_scores.h"

#include "ntks/util/error.h"

namespace ntks::select {

at::Tensor unit_rows(const at::Tensor& domain, const std::string& source) {
  const at::Tensor d = domain.to(at::kDouble);
  const at::Tensor norms = d.norm(2, 1, /*keepdim=*/true);
  const int64_t zero = (norms == 0).sum().item<int64_t>();
  if (zero > 0)
    throw InputError(fmt::format("{}: {} domain gradient row(s) are all zeros: their cosine is undefined", source, zero));
  return (d / norms).contiguous();
}

void less_scores(const float* rows, int64_t count, const at::Tensor& unit_domain, bool use_max, double* out) {
  const int64_t d = unit_domain.size(1);
  if (count == 0) return;
  const at::Tensor c =
      torch::from_blob(const_cast<float*>(rows), {count, d}, at::kFloat).to(at::kDouble);
  const at::Tensor norms = c.norm(2, 1, /*keepdim=*/true).clamp_min(1e-300);
  // One matrix-vector product per row: every score is computed the same way
  // whatever rows share its chunk.
  for (int64_t i = 0; i < count; ++i) {
    const at::Tensor cos = torch::mv(unit_domain, c[i] / norms[i]);
    out[i] = use_max ? cos.max().item<double>() : cos.mean().item<double>();
  }
}

}  // namespace ntks::select
