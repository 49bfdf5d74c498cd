// A build without CUDA: no tensor is ever on a CUDA device, so the projector
// always takes its CPU path.

#include "projector_device.h"

namespace ntks::features {

bool accumulate_on_device(const at::Tensor&, uint64_t, uint64_t, int64_t, double, at::Tensor&) { return false; }

}  // namespace ntks::features
