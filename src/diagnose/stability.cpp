#include "ntks/diagnose/stability.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <limits>
#include <optional>
#include <nlohmann/json.hpp>

#include "ntks/diagnose/kernel_stats.h"
#include "ntks/diagnose/kernels.h"
#include "ntks/log/log.h"
#include "ntks/model/adapter.h"
#include "ntks/model/decoder.h"
#include "ntks/train/trainer.h"
#include "ntks/util/error.h"
#include "ntks/util/svg_plot.h"

namespace ntks::diagnose {

namespace fs = std::filesystem;

std::vector<StabilityAdapter> adapters_in(const std::string& folder) {
  if (!fs::is_directory(folder))
    throw InputError(fmt::format("{}: no such folder of adapters (`ntk-select finetune --keep-adapters N` writes "
                                 "OUT/snapshots/)",
                                 folder));
  std::vector<StabilityAdapter> out;
  for (const auto& e : fs::directory_iterator(folder)) {
    const std::string name = e.path().filename().string();
    if (!e.is_directory() || name.rfind("step-", 0) != 0 || name.find(".partial") != std::string::npos) continue;
    if (!fs::exists(e.path() / "adapter_config.json")) continue;
    int64_t step = -1;
    try {
      step = std::stoll(name.substr(5));
    } catch (const std::exception&) {
      continue;
    }
    out.push_back({name, e.path().string(), step});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.step < b.step; });
  return out;
}

void check_adapters(const std::vector<StabilityAdapter>& adapters) {
  if (adapters.size() < 2)
    throw UsageError(fmt::format("diagnose stability: {} adapter(s) given, nothing to compare: it needs the start "
                                 "and at least one later checkpoint (`ntk-select finetune --keep-adapters N` keeps "
                                 "them in OUT/snapshots/)",
                                 adapters.size()));
  for (const StabilityAdapter& a : adapters)
    if (a.folder != "init" && !fs::exists(fs::path(a.folder) / "adapter_config.json"))
      throw InputError(fmt::format("{}: no adapter here (no adapter_config.json)", a.folder));
}

StabilityResult stability(model::Decoder& dec, const std::vector<data::Sample>& samples,
                          const std::vector<StabilityAdapter>& adapters, const StabilityOptions& options) {
  check_adapters(adapters);
  StabilityResult r;
  r.samples = static_cast<int64_t>(samples.size());
  r.dim = options.dim;
  std::optional<features::Projector> projector;
  if (options.dim > 0) projector.emplace(options.projection, options.dim);
  for (const StabilityAdapter& a : adapters) {
    if (a.folder == "init") {
      if (dec.has_lora()) dec.remove_lora();
      dec.add_lora(train::lora_spec(options.lora), options.init_seed);
    } else {
      model::load_adapter(dec, a.folder);
    }
    const GradientRows rows =
        gradient_rows(dec, samples, options.output, options.scale, projector ? &*projector : nullptr,
                      options.batch_size);
    StabilityPoint p;
    p.adapter = a;
    const at::Tensor k = gram(rows.all());
    p.kernel = to_vector(k);
    p.norm = frobenius_norm(p.kernel);
    const double ta = gram(rows.a).trace().item<double>(), tb = gram(rows.b).trace().item<double>();
    p.a_share = ta + tb > 0 ? ta / (ta + tb) : 0;
    log::info("stability: kernel at {}: ||K||_F {:.6g}, lora_A share {:.4f}", a.name, p.norm, p.a_share);
    r.points.push_back(std::move(p));
  }
  while (r.reference < r.points.size() && r.points[r.reference].norm == 0) ++r.reference;
  if (r.reference + 1 >= r.points.size())
    throw InputError("diagnose stability: the kernels are 0 at every adapter but the last: no usable gradient "
                     "(are the samples' response rows empty or the adapter all zeros?)");
  if (r.reference > 0)
    r.reference_note = fmt::format("the kernel at {} is exactly 0, so the first adapter with a nonzero kernel ({}) "
                                   "is the reference",
                                   r.points[0].adapter.name, r.points[r.reference].adapter.name);
  r.min_cosine = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < r.points.size(); ++i) {
    r.points[i].cosine = frobenius_cosine(r.points[r.reference].kernel, r.points[i].kernel);
    if (i > r.reference) r.min_cosine = std::min(r.min_cosine, r.points[i].cosine);
  }
  r.epsilon = 1 - r.min_cosine;
  return r;
}

nlohmann::json stability_json(const StabilityResult& r) {
  nlohmann::json points = nlohmann::json::array();
  for (const StabilityPoint& p : r.points) {
    nlohmann::json rows = nlohmann::json::array();
    for (int64_t i = 0; i < r.samples; ++i)
      rows.push_back(std::vector<double>(p.kernel.begin() + i * r.samples, p.kernel.begin() + (i + 1) * r.samples));
    points.push_back({{"name", p.adapter.name},
                      {"adapter", p.adapter.folder},
                      {"step", p.adapter.step >= 0 ? nlohmann::json(p.adapter.step) : nlohmann::json(nullptr)},
                      {"cosine", p.cosine},
                      {"frobenius_norm", p.norm},
                      {"a_share", p.a_share},
                      {"kernel", rows}});
  }
  return {{"min_cosine", r.min_cosine},
          {"epsilon", r.epsilon},
          {"final_cosine", r.points.back().cosine},
          {"checkpoints_compared", static_cast<int64_t>(r.points.size() - r.reference - 1)},
          {"samples", r.samples},
          {"dim", r.dim},
          {"reference", r.points[r.reference].adapter.name},
          {"reference_note", r.reference_note},
          {"definitions",
           {{"kernel", "K_t = G_t G_t^T, rows of G_t the per-sample LoRA gradients of f (grads.output) at adapter t, "
                       "projected P^T g / sqrt(d) (dim 0: unprojected)"},
            {"cosine", "cos_F(K_0, K_t) = <K_0, K_t>_F / (||K_0||_F ||K_t||_F), K_0 the reference's kernel"},
            {"min_cosine", "min over the adapters after the reference of cos_F(K_0, K_t)"},
            {"epsilon", "1 - min_cosine: the model is epsilon-NTK-like over these checkpoints (Definition 1)"},
            {"a_share", "trace of the lora_A gradients' kernel / (that + the lora_B one's); 0 at a fresh adapter "
                        "(B = 0 makes every lora_A gradient 0; K_0 is then the lora_B kernel, not degenerate)"}}},
          {"checkpoints", points}};
}

std::string stability_svg(const StabilityResult& r) {
  util::PlotSeries s;
  s.label = "cos_F(K_0, K_t)";
  s.markers = true;
  bool steps = true;
  for (const StabilityPoint& p : r.points) steps = steps && p.adapter.step >= 0;
  for (size_t i = r.reference; i < r.points.size(); ++i) {
    s.x.push_back(steps ? static_cast<double>(r.points[i].adapter.step) : static_cast<double>(i));
    s.y.push_back(r.points[i].cosine);
  }
  util::PlotOptions o;
  o.title = fmt::format("NTK-like stability: min cos_F {:.4f} (epsilon {:.4f}), {} samples", r.min_cosine, r.epsilon,
                        r.samples);
  o.x_label = steps ? "training step" : "adapter";
  o.y_label = "Frobenius cosine with the reference kernel";
  return util::svg_line_chart({s}, o);
}

}  // namespace ntks::diagnose
