#include "ntks/diagnose/fidelity.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "ntks/diagnose/kernel_stats.h"
#include "ntks/diagnose/kernels.h"
#include "ntks/diagnose/plots.h"
#include "ntks/features/sample_grads.h"
#include "ntks/log/log.h"
#include "ntks/model/decoder.h"

namespace ntks::diagnose {

int64_t fidelity_memory_bytes(const model::Decoder& dec, const std::vector<data::Sample>& samples, int64_t dim) {
  const auto n = static_cast<int64_t>(samples.size());
  const int64_t P = features::lora_parameter_count(dec);
  // gradient_rows' a, b and their sum, the exact NTK's per-direction rows,
  // the projected rows; one graph per sample for the exact NTK.
  int64_t bytes = 4 * (4 * n * P + n * dim);
  for (const data::Sample& s : samples) bytes += graph_bytes_estimate(dec, static_cast<int64_t>(s.ids.size()));
  return bytes;
}

FidelityResult fidelity(const model::Decoder& dec, const std::vector<data::Sample>& samples,
                        const FidelityOptions& options) {
  FidelityResult r;
  r.samples = static_cast<int64_t>(samples.size());
  r.lora_parameters = features::lora_parameter_count(dec);
  r.hidden = dec.config().hidden_size;
  r.vocab = dec.config().vocab_size;
  r.dim = options.dim;
  r.delta = options.delta;
  const int64_t n = r.samples;

  // The selection's own gradients, unprojected, then projected as grads does.
  const at::Tensor g = gradient_rows(dec, samples, config::GradOutput::logit_sum, options.scale, nullptr,
                                     options.batch_size)
                           .all();
  const features::Projector projector(options.projection, options.dim);
  at::Tensor projected = at::zeros({n, options.dim}, at::kFloat);
  projector.accumulate(g, 0, projected);
  const at::Tensor k_jf = gram(g), k_p = gram(projected);
  log::info("Jacobian-free kernel of {} samples done; the exact NTK takes one backward per sample and direction", n);
  const ExactNtk exact = exact_trace_ntk(dec, samples, options.scale);
  r.directions = exact.directions;
  r.exact = to_vector(exact.kernel);
  r.jacobian_free = to_vector(k_jf);
  r.projected = to_vector(k_p);

  const std::vector<double> ex = upper_triangle(r.exact, n), jf = upper_triangle(r.jacobian_free, n);
  r.pearson = pearson(jf, ex);
  r.spearman = spearman(jf, ex);
  std::vector<double> cross(r.exact.size());
  for (size_t i = 0; i < cross.size(); ++i) cross[i] = r.jacobian_free[i] - r.exact[i];
  r.cross_share = frobenius_norm(cross) / frobenius_norm(r.exact);
  double abs_cross = 0, abs_exact = 0;
  for (size_t i = 0; i < ex.size(); ++i) abs_cross += std::abs(jf[i] - ex[i]), abs_exact += std::abs(ex[i]);
  r.cross_share_mean_abs = abs_cross / abs_exact;
  double jf_ex = 0, ex_ex = 0, jf_jf = 0;
  for (size_t i = 0; i < r.exact.size(); ++i) {
    jf_ex += r.jacobian_free[i] * r.exact[i];
    ex_ex += r.exact[i] * r.exact[i];
    jf_jf += r.jacobian_free[i] * r.jacobian_free[i];
  }
  r.jf_over_exact = jf_ex / ex_ex;
  r.shape_error = std::sqrt(std::max(0.0, jf_jf - jf_ex * jf_ex / ex_ex) / jf_jf);

  double sum = 0;
  int64_t pairs = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i; j < n; ++j) {
      const auto at = static_cast<size_t>(i * n + j);
      const double norms = std::sqrt(r.jacobian_free[static_cast<size_t>(i * n + i)] *
                                     r.jacobian_free[static_cast<size_t>(j * n + j)]);
      const double e = norms > 0 ? std::abs(r.projected[at] - r.jacobian_free[at]) / norms : 0;
      r.jl_max_rel_error = std::max(r.jl_max_rel_error, e);
      sum += e;
      ++pairs;
    }
  r.jl_mean_rel_error = pairs ? sum / static_cast<double>(pairs) : 0;
  r.jl_bound = jl_bound(n, options.dim, options.delta);
  return r;
}

nlohmann::json fidelity_json(const FidelityResult& r) {
  auto matrix = [&](const std::vector<double>& k) {
    nlohmann::json rows = nlohmann::json::array();
    for (int64_t i = 0; i < r.samples; ++i)
      rows.push_back(std::vector<double>(k.begin() + i * r.samples, k.begin() + (i + 1) * r.samples));
    return rows;
  };
  return {
      {"pearson", r.pearson},
      {"spearman", r.spearman},
      {"cross_share", r.cross_share},
      {"cross_share_mean_abs", r.cross_share_mean_abs},
      {"shape_error", r.shape_error},
      {"jf_over_exact", r.jf_over_exact},
      {"jl_max_rel_error", r.jl_max_rel_error},
      {"jl_mean_rel_error", r.jl_mean_rel_error},
      {"jl_bound", r.jl_bound},
      {"jl_dim", r.dim},
      {"jl_delta", r.delta},
      {"samples", r.samples},
      {"lora_parameters", r.lora_parameters},
      {"hidden_size", r.hidden},
      {"vocab_size", r.vocab},
      {"exact_directions", r.directions},
      {"definitions",
       {{"z_v", "scale/|R| * sum over the response rows t-1 of logits[t-1, v] (R: response tokens after position 0)"},
        {"exact", "K_ex(x,x') = sum_v <grad z_v(x), grad z_v(x')>, gradients over the LoRA parameters; computed "
                  "as sum_j <grad c_j.hbar(x), grad c_j.hbar(x')> with W^T W = sum_j c_j c_j^T (exact: z_v = W_v.hbar)"},
        {"jacobian_free", "K_JF(x,x') = <grad f(x), grad f(x')>, f = sum_v z_v (grads.output logit_sum)"},
        {"projected", "K_P(x,x') = <P^T g(x), P^T g(x')> / d, the projection of grads (grads.projection, grads.seed, jl_dim)"},
        {"pairs", "statistics over the entries i <= j of the n x n kernels (diagonal included)"},
        {"pearson", "Pearson correlation of K_JF against K_ex"},
        {"spearman", "Spearman rank correlation of K_JF against K_ex (ties: mean ranks)"},
        {"cross_share", "||K_JF - K_ex||_F / ||K_ex||_F: the cross terms sum_{v != v'} relative to the exact NTK"},
        {"cross_share_mean_abs", "mean |K_JF - K_ex| / mean |K_ex| over the pairs"},
        {"shape_error", "||K_JF - c K_ex||_F / ||K_JF||_F at the best scale c: the cross terms less a common factor"},
        {"jf_over_exact", "c = <K_JF, K_ex>_F / ||K_ex||_F^2, the common factor"},
        {"jl_rel_error", "|K_P - K_JF| / (|g(x)| |g(x')|) per pair: the error the Johnson-Lindenstrauss lemma bounds"},
        {"jl_bound", "eps with 2 n^2 exp(-d (eps^2/2 - eps^3/3) / 2) = jl_delta (Achlioptas 2003, norms of u and u +- "
                     "v): with probability 1 - jl_delta every jl_rel_error <= eps"}}},
      {"kernels", {{"exact", matrix(r.exact)}, {"jacobian_free", matrix(r.jacobian_free)},
                   {"projected", matrix(r.projected)}}},
  };
}

std::string fidelity_svg(const FidelityResult& r) {
  return scatter_svg(upper_triangle(r.exact, r.samples), upper_triangle(r.jacobian_free, r.samples),
                     fmt::format("Jacobian-free vs exact NTK ({} samples): Pearson {:.3f}, Spearman {:.3f}", r.samples,
                                 r.pearson, r.spearman),
                     "exact trace NTK K_ex(x, x')", "Jacobian-free K_JF(x, x')");
}

}  // namespace ntks::diagnose
