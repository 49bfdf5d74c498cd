#pragma once
// The `lda` score rule (score.rule, beyond the paper): Fisher's linear
// discriminant between the domain's and the candidates' projected gradients.
//
//   s(c) = (g(c) - mu_C)^T w,   w = (Sigma + lambda I)^-1 (mu_D - mu_C)
//
// mu_D, mu_C: the means of the domain and candidate rows; Sigma: their pooled
// covariance (each set centred by its own mean, divided by the rows of both);
// lambda = shrink x tr(Sigma) / min(rows, dim), shrink times the mean eigenvalue
// of Sigma's non-zero spectrum. In kernel terms it is the NTK under the
// inverse gradient covariance (the preconditioning of influence functions and
// TRAK) against the direction in which the domain differs from the pool; the
// paper's raw inner product instead ranks by what all samples share (a
// template's gradient length), see docs/architecture.md, "Scores".

#include <cstdint>
#include <vector>

namespace ntks::features {
class FeatureSet;
}
namespace ntks::store {
class FeatureReader;
}

namespace ntks::select {

struct Discriminant {
  std::vector<double> w;   ///< [dim]
  double offset = 0;       ///< mu_C^T w: s(c) = g(c)^T w - offset
  double lambda = 0;       ///< the ridge used
  int64_t rows = 0;        ///< domain + candidate rows it was fitted on
};

/// Fits w from every row of `domain` (per-sample domain gradients) and
/// `candidates`, read in chunks of `chunk_rows` rows in row order, in
/// float64. Memory: dim^2 doubles (512 MiB at dim 8192); InputError naming
/// score.rule when that exceeds 4 GiB.
Discriminant fit_discriminant(const store::FeatureReader& domain, const features::FeatureSet& candidates,
                              double shrink, int64_t chunk_rows);

}  // namespace ntks::select
