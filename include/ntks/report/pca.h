#pragma once
// The 2-D map of the report: the first two principal components of a set of
// embeddings, by subspace iteration on the centred rows (the covariance matrix
// is never formed, so memory is the rows themselves). Deterministic: a fixed
// start, at most a fixed number of steps (each one pass over the rows for
// both components), and each component's sign chosen so
// that its largest coordinate is positive.

#include <cstdint>
#include <vector>

namespace ntks::report {

struct Pca2 {
  std::vector<double> x, y;     ///< each row's coordinates on the first and second component
  double variance[2] = {0, 0};  ///< the variance along each (eigenvalues of the covariance)
  double total_variance = 0;    ///< the trace of the covariance: sum over columns
  int iterations = 0;           ///< subspace iterations used
};

/// `rows` holds n rows of `dim` floats, row-major. n < 2 or constant rows give
/// zero coordinates.
Pca2 pca2(const std::vector<float>& rows, std::int64_t n, std::int64_t dim, int max_iterations = 60);

}  // namespace ntks::report
