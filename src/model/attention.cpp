#include <torch/torch.h>
#include <torch/version.h>

#include "ntks/model/layers.h"

namespace ntks::model {

at::Tensor repeat_kv(const at::Tensor& x, int64_t n_rep) {
  if (n_rep == 1) return x;
  const auto b = x.size(0), kv = x.size(1), t = x.size(2), d = x.size(3);
  return x.unsqueeze(2).expand({b, kv, n_rep, t, d}).reshape({b, kv * n_rep, t, d});
}

at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& bias) {
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
#if TORCH_VERSION_MAJOR >= 2
  // Fused kernels (flash / memory-efficient on GPU); the additive mask keeps
  // fully padded query rows finite, as in the explicit form.
  (void)scale;  // its default scale is head_dim^-0.5 too
  return at::scaled_dot_product_attention(q, k, v, bias, 0.0, false);
#else
  at::Tensor scores = torch::matmul(q, k.transpose(-2, -1)) * scale + bias;
  at::Tensor probs = torch::softmax(scores, -1, at::kFloat).to(q.scalar_type());
  return torch::matmul(probs, v);
#endif
}

}  // namespace ntks::model
