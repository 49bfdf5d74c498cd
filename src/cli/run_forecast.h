#pragma once
// `ntk-select run --dry-run`: the cost of the whole run on this hardware and
// rank count, measured on a short sample before any stage runs.

#include <cstdint>

#include "command.h"

namespace ntks::cli {

/// Every rank times the warm-up, embed and grads code on the same `samples`
/// candidates (spread evenly over the corpus; all ranks at once, so that they
/// share the machine as the stages would), and a GEMM of the pre-selection's
/// shape; rank 0 prints the forecast table and writes
/// RUN/forecast/dry-run.json. Stages select.method does not use are left
/// out. Writes nothing else.
int dry_run_forecast(Context& ctx, int64_t samples);

}  // namespace ntks::cli
