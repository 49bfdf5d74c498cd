#pragma once
// Timing helpers shared by the model benchmarks (private to src/bench).

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <limits>

namespace ntks::bench {

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// Waits for the device's queued work (a no-op on the CPU), so a timer
/// measures the work rather than its launch.
inline void sync_device(at::Device device) {
  if (device.is_cuda()) torch::cuda::synchronize();
}

/// Fastest of `reps` runs after one warm-up: the least disturbed by other
/// work on the machine.
inline double fastest(int reps, at::Device device, const std::function<void()>& run) {
  run();
  sync_device(device);
  double best = std::numeric_limits<double>::infinity();
  for (int i = 0; i < std::max(1, reps); ++i) {
    auto t0 = std::chrono::steady_clock::now();
    run();
    sync_device(device);
    best = std::min(best, seconds_since(t0));
  }
  return best;
}

}  // namespace ntks::bench
