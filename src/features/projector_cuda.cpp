// Torch side of the GPU projection: shapes, streams and the chunk count, then
// the fused kernel (projector_kernel.cu) and a deterministic sum of its
// per-chunk partial results.

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/torch.h>

#include <algorithm>

#include "projector_device.h"
#include "projector_kernel.h"
#include "ntks/util/error.h"

namespace ntks::features {

bool accumulate_on_device(const at::Tensor& g, uint64_t first_row, uint64_t seed_key, int64_t dim, double scale,
                          at::Tensor& out) {
  if (!out.is_cuda() || dim % 64 != 0 || out.scalar_type() != at::kFloat) return false;
  c10::cuda::CUDAGuard guard(out.device());
  const at::Tensor gf = g.to(out.device(), at::kFloat).contiguous();
  const int64_t batch = gf.size(0), n = gf.size(1);
  // Enough blocks for ~4 per multiprocessor: column tiles × row chunks; each
  // chunk at least one step of rows so no block idles.
  const int sms = at::cuda::getCurrentDeviceProperties()->multiProcessorCount;
  const int64_t tiles = (dim + cuda::kTileColumns - 1) / cuda::kTileColumns;
  const int64_t max_chunks = std::max<int64_t>(1, n / 256);
  const int64_t chunks = std::min(max_chunks, std::max<int64_t>(1, (4 * sms + tiles - 1) / tiles));
  const int64_t rows_per_chunk = (n + chunks - 1) / chunks;
  const cudaStream_t stream = at::cuda::getCurrentCUDAStream();
  for (int64_t b0 = 0; b0 < batch; b0 += cuda::kMaxBatch) {
    const int64_t group = std::min<int64_t>(cuda::kMaxBatch, batch - b0);
    at::Tensor partial = at::empty({chunks, group, dim}, out.options());
    const cudaError_t rc = cuda::launch_sign_project(gf.data_ptr<float>() + b0 * n, n, static_cast<int>(group), n,
                                                     first_row, seed_key, dim, static_cast<float>(scale), chunks,
                                                     rows_per_chunk, partial.data_ptr<float>(), stream);
    if (rc != cudaSuccess) throw InternalError(fmt::format("projection kernel: {}", cudaGetErrorString(rc)));
    out.narrow(0, b0, group).add_(partial.sum(0));
  }
  return true;
}

}  // namespace ntks::features
