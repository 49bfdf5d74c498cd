// LESS's Adam direction of a per-sample gradient (features/project.h),
// against the formula of LESS's obtain_gradients_with_adam written out.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "ntks/features/project.h"
#include "ntks/util/error.h"

namespace {

TEST(AdamPrecondition, IsLessAdamDirectionOfTheSliceAtItsOffset) {
  ntks::features::AdamPreconditioner p;
  p.m = torch::tensor({0.5f, -0.25f, 0.1f, 2.0f});
  p.v = torch::tensor({0.04f, 0.01f, 0.0f, 1.0f});
  const at::Tensor g = torch::tensor({{1.0f, -3.0f}, {0.0f, 0.5f}});  // two samples, layout indices 1 and 2
  const at::Tensor d = p.apply(1, g);
  for (int b = 0; b < 2; ++b)
    for (int j = 0; j < 2; ++j) {
      const double m = p.m[1 + j].item<double>(), v = p.v[1 + j].item<double>(), x = g[b][j].item<double>();
      const double want = (0.9 * m + 0.1 * x) / std::sqrt(0.999 * v + 0.001 * x * x + 1e-8);
      EXPECT_NEAR(d[b][j].item<double>(), want, 1e-6 * std::max(1.0, std::abs(want))) << b << " " << j;
    }
  // A slice past the moments is a bug, not a silent read.
  EXPECT_THROW(p.apply(3, g), ntks::InternalError);
}

}  // namespace
