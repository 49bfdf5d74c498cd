#pragma once
// The projection on a CUDA device (projector_cuda.cpp in CUDA builds,
// projector_cuda_absent.cpp elsewhere), called by Projector::accumulate.

#include <cstdint>

namespace at {
class Tensor;
}

namespace ntks::features {

/// out[b, :] += scale · g[b, :] · P[first_row : first_row + n, :] with the
/// signs generated on the device. Returns false (and does nothing) when it
/// cannot: not a CUDA build, `out` not on a CUDA device, or dim % 64 != 0.
bool accumulate_on_device(const at::Tensor& g, uint64_t first_row, uint64_t seed_key, int64_t dim, double scale,
                          at::Tensor& out);

}  // namespace ntks::features
