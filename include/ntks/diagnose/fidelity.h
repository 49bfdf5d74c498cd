#pragma once
// `ntk-select diagnose fidelity`: how close the Jacobian-free kernel the
// selection uses is to the exact (trace) NTK, and what the random projection
// loses, on a small subset (the paper's Fig. 2b and §4.3).
//
//   exact     K_ex(x, x') = Σ_v <∇z_v(x), ∇z_v(x')>        (kernels.h)
//   JF        K_JF(x, x') = <∇f(x), ∇f(x')>, f = Σ_v z_v   (grads.output logit_sum)
//             = K_ex + Σ_{v≠v'} <∇z_v(x), ∇z_v'(x')>       (the cross terms)
//   projected K_P(x, x') = <Pᵀg/√d, Pᵀg'/√d>               (g = ∇f; projector.h)
//
// Reported over the distinct pairs i ≤ j of the n samples (diagonal included):
//   pearson, spearman         of K_JF against K_ex
//   cross_share               ||K_JF - K_ex||_F / ||K_ex||_F
//   cross_share_mean_abs      mean |K_JF - K_ex| / mean |K_ex|
//   shape_error               ||K_JF - c K_ex||_F / ||K_JF||_F at the best scale
//                             c = <K_JF, K_ex>_F / ||K_ex||²_F (jf_over_exact): what
//                             is left of the cross terms once a common factor, which
//                             no ranking sees, is taken out; = sqrt(1 - cos_F²)
//   jl_{max,mean}_rel_error   of |K_P - K_JF| / (|g| |g'|)  (the error JL bounds)
//   jl_bound                  kernel_stats.h jl_bound(n, d, δ = 0.05)

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "ntks/config/config.h"
#include "ntks/data/sample_reader.h"

namespace ntks::model {
class Decoder;
}

namespace ntks::diagnose {

struct FidelityOptions {
  double scale = 1;          ///< grads.scale
  int64_t dim = 8192;        ///< d of the projection whose JL error is measured
  /// grads.projection, .seed and .sparsity: the projection measured, as grads
  /// makes it (its other fields are not read)
  config::GradsConfig projection;
  int64_t batch_size = 8;    ///< samples per per-sample-gradient batch
  double delta = 0.05;       ///< failure probability of the JL bound
};

struct FidelityResult {
  int64_t samples = 0, lora_parameters = 0, hidden = 0, vocab = 0, directions = 0, dim = 0;
  std::vector<double> exact, jacobian_free, projected;  ///< n x n, row-major
  double pearson = 0, spearman = 0, cross_share = 0, cross_share_mean_abs = 0, shape_error = 0, jf_over_exact = 0;
  double jl_max_rel_error = 0, jl_mean_rel_error = 0, jl_bound = 0, delta = 0.05;
};

/// Memory the computation needs, in bytes (an estimate: gradient buffers
/// exactly, autograd graphs by graph_bytes_estimate), for a size check first.
int64_t fidelity_memory_bytes(const model::Decoder& dec, const std::vector<data::Sample>& samples, int64_t dim);

/// The kernels and numbers above; the decoder carries the adapter.
FidelityResult fidelity(const model::Decoder& dec, const std::vector<data::Sample>& samples,
                        const FidelityOptions& options);

/// The result as the JSON object of RUN/diagnose/fidelity.json (headline
/// numbers top-level scalars, then the definitions and the kernels).
nlohmann::json fidelity_json(const FidelityResult& r);

/// SVG scatter: the JF kernel's entries against the exact ones.
std::string fidelity_svg(const FidelityResult& r);

}  // namespace ntks::diagnose
