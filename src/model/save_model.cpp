#include "ntks/model/save_model.h"

#include <filesystem>

#include "ntks/model/weights.h"
#include "ntks/util/files.h"

namespace ntks::model {

void save_model(const Decoder& decoder, const std::string& dir, at::ScalarType dtype,
                const std::map<std::string, std::string>& metadata) {
  namespace fs = std::filesystem;
  std::vector<TensorBytes> tensors;
  for (const auto& [entry, t] : decoder.named_weights())
    tensors.push_back(tensor_bytes(entry.name, t.detach().to(at::kCPU, dtype)));
  HfConfig c = decoder.config();
  c.torch_dtype = dtype == at::kBFloat16 ? "bfloat16" : dtype == at::kHalf ? "float16" : "float32";
  fs::create_directories(dir);
  write_checkpoint(dir, tensors, 1, metadata);
  write_file_atomic((fs::path(dir) / "config.json").string(), hf_config_json(c));
}

}  // namespace ntks::model
