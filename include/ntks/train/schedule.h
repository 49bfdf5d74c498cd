#pragma once
// Learning-rate schedules with linear warm-up, with Hugging Face's semantics
// (transformers.get_{cosine,linear,constant}_schedule_with_warmup), so that a
// warm-up here follows the same curve as the paper's Trainer run.

#include <cstdint>

#include "ntks/config/config.h"

namespace ntks::train {

/// Hugging Face's warm-up length: ceil(ratio × total_steps).
int64_t warmup_steps(double ratio, int64_t total_steps);

/// Learning rate of optimizer step `step` (0-based; HF advances the scheduler
/// after each optimizer step, so step 0 of a warm-up runs at lr 0):
///   step < warmup: base_lr × step / max(1, warmup)
///   after: progress p = (step - warmup) / max(1, total - warmup) and
///     cosine    base_lr × max(0, 0.5 (1 + cos(π p)))
///     linear    base_lr × max(0, (total - step) / max(1, total - warmup))
///     constant  base_lr
double learning_rate(config::Schedule schedule, double base_lr, int64_t step, int64_t total_steps, int64_t warmup);

}  // namespace ntks::train
