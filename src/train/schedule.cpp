#include "ntks/train/schedule.h"

#include <algorithm>
#include <cmath>

#include "ntks/util/error.h"

namespace ntks::train {

int64_t warmup_steps(double ratio, int64_t total_steps) {
  NTKS_CHECK(ratio >= 0 && total_steps >= 0, "warm-up ratio {} / total steps {} must not be negative", ratio,
             total_steps);
  // The same double product as Python's math.ceil(total * ratio).
  return static_cast<int64_t>(std::ceil(static_cast<double>(total_steps) * ratio));
}

double learning_rate(config::Schedule schedule, double base_lr, int64_t step, int64_t total_steps, int64_t warmup) {
  if (step < warmup) return base_lr * static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, warmup));
  const double after = static_cast<double>(std::max<int64_t>(1, total_steps - warmup));
  switch (schedule) {
    case config::Schedule::constant:
      return base_lr;
    case config::Schedule::linear:
      return base_lr * std::max(0.0, static_cast<double>(total_steps - step) / after);
    case config::Schedule::cosine: {
      const double progress = static_cast<double>(step - warmup) / after;
      return base_lr * std::max(0.0, 0.5 * (1.0 + std::cos(M_PI * progress)));
    }
  }
  NTKS_CHECK(false, "unknown schedule {}", static_cast<int>(schedule));
  return 0;
}

}  // namespace ntks::train
