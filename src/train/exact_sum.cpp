// exact_sum(): fixed-point int64 sums over ranks (train/exact_sum.h).

#include "ntks/train/exact_sum.h"

#include <cmath>

#include "ntks/dist/communicator.h"
#include "ntks/util/error.h"

namespace ntks::train {

ExactSumResult exact_sum(const std::vector<at::Tensor>& local, const std::vector<int64_t>& segments, int64_t vectors,
                         bool flag, const at::TensorOptions& device, dist::Communicator& comm) {
  int64_t n = 0;
  for (int64_t s : segments) n += s;
  const auto S = static_cast<int64_t>(segments.size());
  NTKS_CHECK(S > 0 && vectors > 0, "exact_sum: {} segments, {} vectors", S, vectors);
  const auto dopts = device.dtype(at::kDouble);
  // Largest magnitude of each segment over every vector of every rank, the
  // flag, and whether any value is not finite (carried apart: MPI's max of a
  // NaN and a number depends on the order).
  at::Tensor maxes = at::zeros({S + 2}, dopts);
  for (const at::Tensor& v : local) {
    NTKS_CHECK(v.dim() == 1 && v.size(0) == n, "exact_sum: a vector of {} elements, expected {}", v.numel(), n);
    if (!at::isfinite(v).all().item<bool>()) maxes[S + 1] = 1.0;
    int64_t at_ = 0;
    for (int64_t s = 0; s < S; ++s) {
      if (segments[s] > 0)
        maxes[s] = at::maximum(maxes[s], at::nan_to_num(v.narrow(0, at_, segments[s]).abs().to(at::kDouble), 0, 0).max());
      at_ += segments[s];
    }
  }
  maxes[S] = flag ? 1.0 : 0.0;
  comm.allreduce(maxes, dist::ReduceOp::max);
  const at::Tensor m = maxes.cpu();
  const double* mx = m.data_ptr<double>();
  // A NaN or infinity anywhere: NaN sums, which the caller reports (the
  // trainer names the step and what to change).
  if (mx[S + 1] > 0) return {at::full({n}, std::nan(""), dopts), mx[S] > 0};

  // Per element: 2^e of its segment, with K * max * 2^e < 2^62.
  std::vector<double> scale, inverse;
  for (int64_t s = 0; s < S; ++s) {
    int exponent = 0;
    if (mx[s] > 0) {
      int x = 0;
      std::frexp(mx[s] * static_cast<double>(vectors), &x);  // max * K < 2^x
      exponent = 62 - x;
    }
    scale.push_back(std::ldexp(1.0, exponent));
    inverse.push_back(std::ldexp(1.0, -exponent));
  }
  const auto expand = [&](const std::vector<double>& per_segment) {
    std::vector<at::Tensor> parts;
    for (int64_t s = 0; s < S; ++s) parts.push_back(at::full({segments[s]}, per_segment[s], dopts));
    return at::cat(parts);
  };
  const at::Tensor to_fixed = expand(scale);
  at::Tensor ints = at::zeros({n}, device.dtype(at::kLong));
  for (const at::Tensor& v : local) ints.add_((v.to(at::kDouble) * to_fixed).round().to(at::kLong));
  comm.allreduce(ints, dist::ReduceOp::sum);
  return {ints.to(at::kDouble) * expand(inverse), mx[S] > 0};
}

}  // namespace ntks::train
