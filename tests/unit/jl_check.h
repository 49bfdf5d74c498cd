#pragma once
// The Johnson–Lindenstrauss check that the dense and the sparse projection
// tests share: for unit x, y the estimate <P̂x, P̂y> of <x, y> has standard
// deviation about sqrt((1 + <x,y>²)/d) (sqrt(2/d) for x = y). Every pair must
// be within 4σ, the RMS error over the pairs near 1σ (a biased or correlated
// P — repeated columns, a constant row — misses that), and every error within
// the JL bound that `diagnose fidelity` reports (δ = 0.05).

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <string>

#include "ntks/diagnose/kernel_stats.h"

namespace ntks::testing {

/// `pairs` pairs of unit vectors of length n, half of them correlated, as
/// one [2·pairs, n] fp32 batch (all x, then all y); heavy_tail scales 20
/// coordinates by 10, as gradients carry much of their norm in a few.
struct JlPairs {
  at::Tensor x, y, exact, both;
};

inline JlPairs jl_pairs(int64_t n, int64_t pairs, uint64_t seed, bool heavy_tail) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  at::Tensor x = at::empty({pairs, n}, at::kDouble).normal_(0, 1, gen);
  at::Tensor y = at::empty({pairs, n}, at::kDouble).normal_(0, 1, gen);
  y.narrow(0, 0, pairs / 2).mul_(0.3).add_(x.narrow(0, 0, pairs / 2));
  if (heavy_tail) {
    x.narrow(1, 0, 20).mul_(10);
    y.narrow(1, 0, 20).mul_(10);
  }
  x = x / x.norm(2, 1, true);
  y = y / y.norm(2, 1, true);
  return {x, y, (x * y).sum(1), torch::cat({x, y}).to(at::kFloat)};
}

/// Checks out = the projection of v.both to d columns; `what` names the case.
inline void expect_jl(const at::Tensor& out, const JlPairs& v, int64_t d, const std::string& what) {
  const int64_t pairs = v.x.size(0);
  const at::Tensor px = out.narrow(0, 0, pairs).to(at::kDouble), py = out.narrow(0, pairs, pairs).to(at::kDouble);
  const at::Tensor err = (px * py).sum(1) - v.exact;
  const at::Tensor z = err / ((1 + v.exact * v.exact) / static_cast<double>(d)).sqrt();
  EXPECT_LT(z.abs().max().item<double>(), 4.0) << what;
  const double rms = z.pow(2).mean().sqrt().item<double>();
  EXPECT_GT(rms, 0.5) << what;
  EXPECT_LT(rms, 1.6) << what;
  EXPECT_LT(err.abs().max().item<double>(), diagnose::jl_bound(2 * pairs, d, 0.05)) << what;
  const at::Tensor norm_err = ((px * px).sum(1) - 1) / std::sqrt(2.0 / static_cast<double>(d));
  EXPECT_LT(norm_err.abs().max().item<double>(), 4.0) << what;
}

}  // namespace ntks::testing
