#include "ntks/model/random_checkpoint.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <fmt/format.h>

#include "ntks/model/adapter.h"
#include "ntks/model/weight_table.h"
#include "ntks/model/weights.h"
#include "ntks/util/files.h"

namespace ntks::model {

void write_random_checkpoint(const std::string& dir, const RandomCheckpointOptions& opt) {
  namespace fs = std::filesystem;
  HfConfig c = opt.config;
  c.torch_dtype = opt.dtype == StDType::BF16 ? "bfloat16" : opt.dtype == StDType::F16 ? "float16" : "float32";
  at::Generator gen = at::detail::createCPUGenerator(opt.seed);
  const at::ScalarType dtype = torch_dtype(opt.dtype);
  std::vector<TensorBytes> tensors;
  auto normal = [&](const std::string& name, std::vector<int64_t> shape, double mean, double std) {
    at::Tensor t = at::empty(shape, at::kFloat).normal_(mean, std, gen);
    tensors.push_back(tensor_bytes(name, t.to(dtype)));
  };
  const double residual_std = opt.init_std / std::sqrt(2.0 * static_cast<double>(std::max<int64_t>(1, c.num_layers)));
  for (const WeightEntry& e : weight_table(c)) {
    if (e.is_norm()) {
      if (opt.pretrain_init) {
        tensors.push_back(tensor_bytes(e.name, at::ones(e.shape, at::kFloat).to(dtype)));
      } else {
        normal(e.name, e.shape, 1, 0.1);
      }
    } else if (e.slot == WeightSlot::proj_bias && opt.pretrain_init) {
      tensors.push_back(tensor_bytes(e.name, at::zeros(e.shape, at::kFloat).to(dtype)));
    } else {
      const bool residual = e.slot == WeightSlot::proj_weight && (e.module == 3 || e.module == 6);  // o_proj, down_proj
      normal(e.name, e.shape, 0, opt.pretrain_init && residual ? residual_std : opt.init_std);
    }
  }

  fs::create_directories(dir);
  write_checkpoint(dir, tensors, opt.shards, {{"format", "pt"}});
  write_file_atomic((fs::path(dir) / "config.json").string(), hf_config_json(c));
}

void write_random_adapter(const std::string& model_dir, const std::string& adapter_dir, const LoraSpec& spec,
                          std::uint64_t seed) {
  Decoder d = Decoder::load(model_dir, at::kFloat, at::kCPU);
  d.add_lora(spec, seed);
  at::Generator gen = at::detail::createCPUGenerator(seed + 1);
  for (auto& layer : d.layers())
    for (auto& lin : layer.proj)
      if (lin.has_lora()) lin.lora().b = at::empty(lin.lora().b.sizes(), at::kFloat).normal_(0, 0.05, gen);
  save_adapter(d, adapter_dir, model_dir);
}

}  // namespace ntks::model
