// Attaching, listing and removing a LoRA adapter on a Decoder.

#include <cmath>

#include "ntks/model/decoder.h"
#include "ntks/util/error.h"

namespace ntks::model {

double LoraSpec::scaling() const {
  return use_rslora ? alpha / std::sqrt(static_cast<double>(r)) : alpha / static_cast<double>(r);
}

void Decoder::add_lora(const LoraSpec& spec, uint64_t seed) {
  std::vector<int> modules;
  for (const auto& t : spec.targets) {
    int m = lora_module_index(t);
    if (m < 0) throw ConfigError(fmt::format("LoRA target '{}' is not a projection of this model", t));
    modules.push_back(m);
  }
  // One CPU generator for the whole adapter: identical on every rank/device.
  at::Generator gen = at::detail::createCPUGenerator(seed);
  for (auto& layer : layers_) {
    for (size_t m = 0; m < kLoraModules.size(); ++m) {
      Linear& lin = layer.proj[m];
      lin.clear_lora();
      if (std::find(modules.begin(), modules.end(), static_cast<int>(m)) == modules.end()) continue;
      // kaiming_uniform(a=sqrt(5)) on [r, in]: bound = sqrt(6 / ((1 + 5) * in)) = 1/sqrt(in).
      const double bound = 1.0 / std::sqrt(static_cast<double>(lin.in_features()));
      LoraWeights w;
      w.a = at::empty({spec.r, lin.in_features()}, at::kFloat).uniform_(-bound, bound, gen).to(device_);
      w.b = torch::zeros({lin.out_features(), spec.r}, torch::TensorOptions().dtype(at::kFloat).device(device_));
      w.scaling = spec.scaling();
      w.dropout = spec.dropout;
      lin.set_lora(std::move(w));
    }
  }
  lora_ = spec;
}

const LoraSpec& Decoder::lora_spec() const {
  NTKS_CHECK(lora_.has_value(), "the model has no LoRA adapter");
  return *lora_;
}

std::vector<at::Tensor> Decoder::lora_parameters() const {
  std::vector<at::Tensor> params;
  for (const auto& layer : layers_)
    for (const auto& lin : layer.proj)
      if (lin.has_lora()) {
        params.push_back(lin.lora().a);
        params.push_back(lin.lora().b);
      }
  return params;
}

void Decoder::remove_lora() {
  for (auto& layer : layers_)
    for (auto& lin : layer.proj) lin.clear_lora();
  lora_.reset();
}

}  // namespace ntks::model
