// Decoder::load: config.json + safetensors -> tensors on the device, with
// every missing or mis-shaped tensor named in one error.

#include <filesystem>

#include "ntks/model/decoder.h"
#include "ntks/model/device.h"
#include "ntks/model/safetensors.h"
#include "ntks/model/weights.h"
#include "ntks/util/error.h"
#include "ntks/util/strings.h"

namespace ntks::model {
namespace {

std::string dims_text(const std::vector<int64_t>& s) {
  std::vector<std::string> parts;
  for (auto d : s) parts.push_back(std::to_string(d));
  return "[" + join(parts, ", ") + "]";
}

/// Collects tensors by name, checking shapes; reports all problems at once.
class Loader {
 public:
  Loader(const WeightStore& store, std::string dir, at::ScalarType dtype, at::Device device)
      : store_(store), dir_(std::move(dir)), dtype_(dtype), device_(device) {}

  at::Tensor take(const std::string& name, std::vector<int64_t> shape) {
    if (!store_.has(name)) {
      missing_.push_back(name + " " + dims_text(shape));
      return {};
    }
    const TensorView& v = store_.get(name);
    if (v.shape != shape) {
      misshaped_.push_back(fmt::format("{} is {} but the config needs {}", name, dims_text(v.shape), dims_text(shape)));
      return {};
    }
    if (v.dtype != StDType::F32 && v.dtype != StDType::F16 && v.dtype != StDType::BF16) {
      misshaped_.push_back(fmt::format("{} has dtype {}, expected a float type", name, st_dtype_name(v.dtype)));
      return {};
    }
    return tensor_from_view(v, store_.keep_alive()).to(device_, dtype_).contiguous();
  }

  void finish() const {
    if (missing_.empty() && misshaped_.empty()) return;
    std::string msg = fmt::format("checkpoint {} does not match its config.json:", dir_);
    if (!missing_.empty()) msg += "\n  missing tensors: " + join(missing_, ", ");
    for (const auto& m : misshaped_) msg += "\n  wrong shape: " + m;
    throw InputError(msg);
  }

 private:
  const WeightStore& store_;
  std::string dir_;
  at::ScalarType dtype_;
  at::Device device_;
  std::vector<std::string> missing_, misshaped_;
};

}  // namespace

Decoder Decoder::load(const std::string& dir, at::ScalarType dtype, at::Device device) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir)) throw InputError(fmt::format("model folder '{}' does not exist", dir));
  require_matmul_support(dtype, device);
  Decoder d;
  d.cfg_ = load_hf_config((fs::path(dir) / "config.json").string());
  d.dtype_ = dtype;
  d.device_ = device;
  const HfConfig& c = d.cfg_;
  WeightStore store = WeightStore::open(dir);
  Loader L(store, dir, dtype, device);

  d.layers_.resize(static_cast<size_t>(c.num_layers));
  for (const WeightEntry& e : weight_table(c)) d.weight(e) = L.take(e.name, e.shape);
  // Tied: the output projection is the embedding (a stray lm_head.weight is ignored, as in HF).
  if (c.tie_word_embeddings) d.lm_head_ = d.embed_;
  L.finish();
  d.rope_ = Rope(c, device);
  return d;
}

}  // namespace ntks::model
