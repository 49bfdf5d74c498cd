#pragma once
// Torch-free view of the device choice (model/device.h), for code that only
// needs to know whether a rank computes on a GPU, such as the CLI setting up
// NCCL before any stage starts.

#include "ntks/config/config.h"

namespace ntks::model {

/// The CUDA device index that choose_device() picks for this rank, or -1
/// when it computes on the CPU. Same errors as choose_device().
int cuda_device_index(config::Device preference, int local_rank);

}  // namespace ntks::model
