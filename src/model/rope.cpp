#include <cmath>

#include "ntks/model/layers.h"
#include "ntks/util/error.h"

namespace ntks::model {
namespace {

// Llama 3.1's frequency bands: high frequencies kept, low ones divided by
// the factor, a smooth blend in between.
at::Tensor llama3_scaled(const at::Tensor& inv_freq, const RopeScaling& s) {
  const double old_len = static_cast<double>(s.original_max_position);
  const double low_wavelen = old_len / s.low_freq_factor;
  const double high_wavelen = old_len / s.high_freq_factor;
  at::Tensor wavelen = 2 * M_PI / inv_freq;
  at::Tensor scaled = torch::where(wavelen > low_wavelen, inv_freq / s.factor, inv_freq);
  at::Tensor smooth = (old_len / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
  at::Tensor blended = (1 - smooth) * scaled / s.factor + smooth * scaled;
  at::Tensor medium = (wavelen >= high_wavelen).logical_and(wavelen <= low_wavelen);
  return torch::where(medium, blended, scaled);
}

}  // namespace

Rope::Rope(const HfConfig& cfg, at::Device device) {
  const int64_t dim = cfg.head_dim;
  at::Tensor exponent = torch::arange(0, dim, 2, torch::kLong).to(at::kFloat) / static_cast<double>(dim);
  at::Tensor inv = 1.0 / torch::pow(cfg.rope_theta, exponent);
  const RopeScaling& s = cfg.rope_scaling;
  if (s.type == "linear") {
    inv = inv / s.factor;
  } else if (s.type == "llama3") {
    inv = llama3_scaled(inv, s);
  } else if (s.type != "default") {
    throw InputError(fmt::format("rope scaling '{}' is not supported (default, linear, llama3)", s.type));
  }
  inv_freq_ = inv.to(device);
}

std::pair<at::Tensor, at::Tensor> Rope::tables(const at::Tensor& positions, at::ScalarType dtype) const {
  at::Tensor freqs = positions.to(at::kFloat).unsqueeze(-1) * inv_freq_;  // [b, t, d/2]
  at::Tensor emb = torch::cat({freqs, freqs}, -1);
  return {emb.cos().to(dtype), emb.sin().to(dtype)};
}

at::Tensor apply_rope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  const int64_t half = x.size(-1) / 2;
  at::Tensor rotated = torch::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
  return x * cos.unsqueeze(1) + rotated * sin.unsqueeze(1);
}

}  // namespace ntks::model
