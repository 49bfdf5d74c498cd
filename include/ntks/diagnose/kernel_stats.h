#pragma once
// Numbers the diagnostics report about kernel matrices, torch-free (plain
// row-major vectors of doubles), so that they are easy to check by hand.
//
//   cos_F(A, B) = <A, B>_F / (||A||_F ||B||_F)         (Definition 1 of the paper)
//   Pearson r   = cov(x, y) / (sd(x) sd(y))
//   Spearman ρ  = Pearson r of the ranks (ties get their mean rank)
//   JL bound    = the ε of a Rademacher projection to d dimensions that holds for
//                 every inner product of n points with probability 1 - δ (below)

#include <cstdint>
#include <vector>

namespace ntks::diagnose {

/// Frobenius cosine of two matrices of the same size (flattened); NaN when
/// either has norm 0.
double frobenius_cosine(const std::vector<double>& a, const std::vector<double>& b);

/// Frobenius norm.
double frobenius_norm(const std::vector<double>& a);

/// Pearson correlation of paired values; NaN when either side is constant.
double pearson(const std::vector<double>& x, const std::vector<double>& y);

/// Ranks 1..n, ties sharing the mean of their ranks.
std::vector<double> ranks(const std::vector<double>& x);

/// Spearman rank correlation (Pearson of ranks()).
double spearman(const std::vector<double>& x, const std::vector<double>& y);

/// The entries K[i][j], i <= j, of an n x n row-major matrix: the distinct
/// pairs of a symmetric kernel (diagonal included), in row order.
std::vector<double> upper_triangle(const std::vector<double>& k, int64_t n);

/// The smallest ε with 2 m exp(-d (ε²/2 - ε³/3) / 2) <= δ, m = n² events:
/// Achlioptas' (2003) tail bound for the squared norm of a Rademacher
/// projection P ∈ {±1}^{p×d} scaled by 1/√d, applied to the n norms and to
/// u ± v for the n(n-1)/2 pairs (polarisation: <u, v> = (|u+v|² - |u-v|²)/4),
/// so that with probability ≥ 1 - δ every |<Pᵀu, Pᵀv>/d - <u, v>| ≤ ε |u| |v|.
/// Capped at 1 (larger ε say nothing); n ≥ 1, d ≥ 1, 0 < δ < 1.
double jl_bound(int64_t n, int64_t d, double delta);

}  // namespace ntks::diagnose
