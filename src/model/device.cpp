#include "ntks/model/device.h"
#include "ntks/model/gpu.h"

#include <torch/version.h>

#include "ntks/util/error.h"

namespace ntks::model {

at::Device choose_device(config::Device preference, int local_rank) {
  const bool cuda = torch::cuda::is_available();
  if (preference == config::Device::cpu || (preference == config::Device::auto_ && !cuda)) return at::kCPU;
  if (!cuda)
    throw ConfigError("model.device is cuda, but this LibTorch has no CUDA or no GPU is visible "
                      "(see ntk-select --build-info)");
  const auto n = static_cast<int>(torch::cuda::device_count());
  return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(local_rank % n));
}

int cuda_device_index(config::Device preference, int local_rank) {
  const at::Device d = choose_device(preference, local_rank);
  return d.is_cuda() ? d.index() : -1;
}

at::ScalarType compute_dtype(config::DType dtype) {
  switch (dtype) {
    case config::DType::bf16: return at::kBFloat16;
    case config::DType::fp16: return at::kHalf;
    case config::DType::fp32: return at::kFloat;
  }
  throw InternalError("unknown dtype");
}

void require_matmul_support(at::ScalarType dtype, at::Device device) {
  try {
    auto t = torch::ones({2, 2}, torch::TensorOptions().dtype(dtype).device(device));
    torch::matmul(t, t);
  } catch (const c10::Error&) {
    throw ConfigError(fmt::format("this LibTorch ({}) cannot multiply {} matrices on {}: use model.dtype "
                                  "bf16 or fp32 there (fp16 is for CUDA)",
                                  TORCH_VERSION, c10::toString(dtype), device.str()));
  }
}

}  // namespace ntks::model
