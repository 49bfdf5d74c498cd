#include "ntks/model/linear.h"

namespace ntks::model {

at::Tensor Linear::forward(const at::Tensor& x, const ForwardContext& ctx, int layer, int module) const {
  at::Tensor out = torch::nn::functional::linear(x, weight_, bias_);
  if (!has_lora()) return out;
  at::Tensor xl = x.to(at::kFloat);
  if (ctx.training && lora_.dropout > 0) xl = torch::dropout(xl, lora_.dropout, /*train=*/true);
  at::Tensor u = torch::matmul(xl, lora_.a.t());
  at::Tensor y = torch::matmul(u, lora_.b.t()) * lora_.scaling;
  if (ctx.trace) ctx.trace->push_back({layer, module, xl, u, y});
  // fp32 sum, then back to the base dtype (PEFT: result + lora(x), then cast).
  return (out.to(at::kFloat) + y).to(out.scalar_type());
}

}  // namespace ntks::model
