#pragma once
// The one place where the compute device and dtype are chosen (STYLE 7).

#include <torch/torch.h>

#include "ntks/config/config.h"

namespace ntks::model {

/// auto: CUDA device (local_rank mod visible GPUs) when this LibTorch has CUDA
/// and a GPU is visible, else CPU. cuda without a GPU: ConfigError.
at::Device choose_device(config::Device preference, int local_rank);

at::ScalarType compute_dtype(config::DType dtype);

/// Throws ConfigError when this LibTorch cannot multiply matrices of `dtype`
/// on `device` (LibTorch 1.13 has no fp16 GEMM on CPU), before any work starts.
void require_matmul_support(at::ScalarType dtype, at::Device device);

}  // namespace ntks::model
