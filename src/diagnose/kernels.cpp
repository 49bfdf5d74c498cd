#include "ntks/diagnose/kernels.h"

#include <utility>

#include "ntks/features/batching.h"
#include "ntks/features/sample_grads.h"
#include "ntks/log/log.h"
#include "ntks/log/progress.h"
#include "ntks/util/error.h"
#include "ntks/util/strings.h"

namespace ntks::diagnose {

namespace {

// The adapter's tensors require grad for the lifetime of the guard (the
// exact NTK differentiates with respect to them directly); restored after.
class LoraRequiresGrad {
 public:
  explicit LoraRequiresGrad(const std::vector<at::Tensor>& params) : params_(params) {
    for (const at::Tensor& p : params_) {
      saved_.push_back(p.requires_grad());
      p.requires_grad_(true);
    }
  }
  ~LoraRequiresGrad() {
    for (size_t i = 0; i < params_.size(); ++i) params_[i].requires_grad_(saved_[i]);
  }
  LoraRequiresGrad(const LoraRequiresGrad&) = delete;
  LoraRequiresGrad& operator=(const LoraRequiresGrad&) = delete;

 private:
  std::vector<at::Tensor> params_;
  std::vector<bool> saved_;
};

}  // namespace

GradientRows gradient_rows(const model::Decoder& dec, const std::vector<data::Sample>& samples,
                           config::GradOutput output, double scale, const features::Projector* projector,
                           int64_t batch_size) {
  const auto n = static_cast<int64_t>(samples.size());
  const int64_t dim = projector ? projector->dim() : features::lora_parameter_count(dec);
  GradientRows rows{at::zeros({n, dim}, at::kFloat), at::zeros({n, dim}, at::kFloat)};
  // per_sample_grads hands over the tensors in lora_parameters() order.
  std::vector<bool> is_a;
  for (const std::string& name : dec.lora_parameter_names()) is_a.push_back(ends_with(name, "lora_A"));
  std::vector<int64_t> lengths;
  for (const data::Sample& s : samples) lengths.push_back(static_cast<int64_t>(s.ids.size()));
  const auto opts = at::TensorOptions().dtype(at::kFloat).device(dec.device());
  for (const auto& batch_rows : features::batches_by_tokens(lengths, INT64_MAX, batch_size)) {
    std::vector<const data::Sample*> batch;
    std::vector<int64_t> positions;
    for (size_t r : batch_rows) {
      batch.push_back(&samples[r]);
      positions.push_back(static_cast<int64_t>(r));
    }
    const auto B = static_cast<int64_t>(batch.size());
    at::Tensor a = at::zeros({B, dim}, opts), b = at::zeros({B, dim}, opts);
    size_t tensor = 0;
    features::per_sample_grads(dec, features::make_batch(batch, dec.device()), output, scale,
                               [&](int64_t offset, const at::Tensor& g) {
                                 NTKS_CHECK(tensor < is_a.size(), "more gradient tensors than LoRA tensors");
                                 at::Tensor& part = is_a[tensor++] ? a : b;
                                 if (projector)
                                   projector->accumulate(g, static_cast<uint64_t>(offset), part);
                                 else
                                   part.narrow(1, offset, g.size(1)).copy_(g);
                               });
    const at::Tensor where = at::tensor(positions, at::kLong);
    rows.a.index_copy_(0, where, a.cpu());
    rows.b.index_copy_(0, where, b.cpu());
  }
  return rows;
}

at::Tensor gram(const at::Tensor& rows) {
  const at::Tensor g = rows.to(at::kCPU, at::kDouble);
  return g.matmul(g.t());
}

ExactNtk exact_trace_ntk(const model::Decoder& dec, const std::vector<data::Sample>& samples, double scale) {
  NTKS_CHECK(dec.has_lora(), "the exact NTK is over the LoRA parameters: the model needs an adapter");
  const at::Device device = dec.device();
  const int64_t H = dec.config().hidden_size;
  const auto n = static_cast<int64_t>(samples.size());
  // WᵀW from the logits of the unit vectors (= Wᵀ, [H, V]), eigendecomposed in float64.
  at::Tensor wt;
  {
    c10::InferenceMode guard;
    wt = dec.logits(at::eye(H, at::TensorOptions().dtype(dec.dtype()).device(device))).to(at::kCPU, at::kDouble);
  }
  const at::Tensor gram_w = wt.matmul(wt.t());
  const auto [eigenvalues, eigenvectors] = at::linalg_eigh(gram_w);
  const double top = eigenvalues.max().item<double>();
  const at::Tensor keep = eigenvalues.gt(1e-12 * std::max(top, 0.0)).nonzero().squeeze(1);
  const at::Tensor directions =
      (eigenvectors.index_select(1, keep) * eigenvalues.index_select(0, keep).sqrt().unsqueeze(0))
          .to(device, at::kFloat);  // [H, r]: column j is c_j
  ExactNtk out;
  out.directions = directions.size(1);

  const std::vector<at::Tensor> params = dec.lora_parameters();
  const int64_t P = features::lora_parameter_count(dec);
  torch::AutoGradMode grad_on(true);
  LoraRequiresGrad guard(params);
  // Per sample, the outputs c_j · h̄(x) for every direction, graphs kept.
  std::vector<at::Tensor> outputs;
  for (const data::Sample& s : samples) {
    const auto T = static_cast<int64_t>(s.ids.size());
    std::vector<float> w(static_cast<size_t>(T - 1), 0.f);
    int64_t count = 0;
    for (int64_t t = 1; t < T; ++t) count += s.response_mask[static_cast<size_t>(t)] != 0;
    NTKS_CHECK(count > 0, "sample {} has no response token after position 0", s.index);
    for (int64_t t = 1; t < T; ++t)
      if (s.response_mask[static_cast<size_t>(t)]) w[static_cast<size_t>(t - 1)] = static_cast<float>(scale / count);
    const at::Tensor ids =
        at::tensor(std::vector<int64_t>(s.ids.begin(), s.ids.end()), at::kLong).unsqueeze(0).to(device);
    const at::Tensor hidden = dec.hidden_states(ids, at::ones_like(ids))[0].narrow(0, 0, T - 1).to(at::kFloat);
    const at::Tensor hbar = (hidden * at::tensor(w).to(device).unsqueeze(1)).sum(0);  // [H]
    outputs.push_back(directions.t().matmul(hbar));                                   // [r]
  }
  at::Tensor kernel = at::zeros({n, n}, at::kDouble);
  at::Tensor g = at::empty({n, P}, at::TensorOptions().dtype(at::kFloat).device(device));
  log::Progress progress("exact NTK directions", out.directions);
  for (int64_t j = 0; j < out.directions; ++j) {
    const bool last = j + 1 == out.directions;
    for (int64_t i = 0; i < n; ++i) {
      const std::vector<at::Tensor> grads = torch::autograd::grad({outputs[static_cast<size_t>(i)][j]}, params, {},
                                                                  /*retain_graph=*/!last, /*create_graph=*/false,
                                                                  /*allow_unused=*/true);
      int64_t at_col = 0;
      for (size_t k = 0; k < params.size(); ++k) {
        const int64_t numel = params[k].numel();
        if (grads[k].defined())
          g[i].narrow(0, at_col, numel).copy_(grads[k].reshape({-1}));
        else
          g[i].narrow(0, at_col, numel).zero_();
        at_col += numel;
      }
    }
    kernel += gram(g);
    progress.advance();
  }
  progress.finish();
  out.kernel = kernel;
  return out;
}

int64_t graph_bytes_estimate(const model::Decoder& dec, int64_t tokens) {
  const model::HfConfig& c = dec.config();
  const int64_t head_dim = c.head_dim > 0 ? c.head_dim : c.hidden_size / std::max<int64_t>(c.num_heads, 1);
  // Per layer and token: norms, q/k/v/o and their LoRA branches, RoPE copies
  // (~16 hidden-sized vectors), the MLP's gate/up/act (~4 intermediate-sized),
  // and the attention scores and probabilities (2 per head and key).
  const int64_t per_token_layer =
      16 * std::max(c.hidden_size, c.num_heads * head_dim) + 4 * c.intermediate_size + 2 * c.num_heads * tokens;
  return 4 * tokens * (c.num_layers * per_token_layer + 4 * c.hidden_size);
}

std::vector<double> to_vector(const at::Tensor& t) {
  const at::Tensor c = t.to(at::kCPU, at::kDouble).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

}  // namespace ntks::diagnose
