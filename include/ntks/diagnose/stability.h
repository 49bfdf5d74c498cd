#pragma once
// `ntk-select diagnose stability`: is the model NTK-like over training
// (Definition 1 of the paper)? The kernel K_t = G_t G_tᵀ of the projected
// per-sample LoRA gradients (grads.output f, ĝ = Pᵀg/√d; d = 0: g itself) of
// a fixed sample of domain and candidate points, at a list of adapters — the
// start of a fine-tune and its snapshots (`finetune --keep-adapters N`) —
// compared with the first by the Frobenius cosine
//   cos_F(K_0, K_t) = <K_0, K_t>_F / (||K_0||_F ||K_t||_F)
// and ε = 1 - min_t cos_F(K_0, K_t): the model is ε-NTK-like on that interval.
//
// The reference: at the start B = 0, so every lora_A gradient is exactly 0
// and K_0 is the kernel of the lora_B gradients alone (∂f/∂B = s Σ_t δ_t u_tᵀ
// with u = A x ≠ 0). That kernel is not degenerate and it is the kernel at
// initialisation Definition 1 compares with, so it stays the reference;
// `a_share` (trace of the lora_A part over the trace of both parts) shows how
// much of K_t the A gradients bring as B grows. Only a reference kernel that
// is exactly 0 (no usable gradient) is skipped for the next adapter, and the
// result says so.

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

/// One adapter to compare: a PEFT folder, or "init" (a fresh adapter of
/// `init_spec`-like shape from the caller: see StabilityOptions).
struct StabilityAdapter {
  std::string name;    ///< shown in the result ("step-0000010", a folder name)
  std::string folder;  ///< PEFT folder; "init": a fresh adapter (options.init_seed)
  int64_t step = -1;   ///< training step when known (from a step-N name)
};

struct StabilityOptions {
  config::GradOutput output = config::GradOutput::logit_sum;
  double scale = 1;
  int64_t dim = 8192;  ///< 0: unprojected gradients
  config::GradsConfig projection;  ///< grads.projection, .seed, .sparsity (other fields not read)
  int64_t batch_size = 8;
  uint64_t init_seed = 0;  ///< seed of an "init" adapter (finetune.seed or run.seed)
  config::LoraConfig lora;  ///< shape of an "init" adapter
};

struct StabilityPoint {
  StabilityAdapter adapter;
  std::vector<double> kernel;  ///< n x n
  double norm = 0, cosine = 0, a_share = 0;
};

struct StabilityResult {
  int64_t samples = 0, dim = 0;
  size_t reference = 0;        ///< index of the reference adapter in points
  std::string reference_note;  ///< why it is not the first, if it is not
  std::vector<StabilityPoint> points;
  double min_cosine = 0, epsilon = 0;
};

/// The adapters of a folder: its subfolders named step-N (N the step) that
/// hold adapter_config.json, by step. InputError when it does not exist.
std::vector<StabilityAdapter> adapters_in(const std::string& folder);

/// UsageError for fewer than 2 adapters, InputError naming a folder that
/// holds no adapter (checked before any work).
void check_adapters(const std::vector<StabilityAdapter>& adapters);

/// Computes every adapter's kernel on `dec` (each load replaces the adapter).
/// Checks the adapters first (check_adapters).
StabilityResult stability(model::Decoder& dec, const std::vector<data::Sample>& samples,
                          const std::vector<StabilityAdapter>& adapters, const StabilityOptions& options);

/// RUN/diagnose/stability.json's object (headline numbers top-level scalars).
nlohmann::json stability_json(const StabilityResult& r);

/// SVG: cos_F(K_0, K_t) against the step (or the adapter's position).
std::string stability_svg(const StabilityResult& r);

}  // namespace ntks::diagnose
