#pragma once
// The rows each feature stage computes for a block of samples: embed's mean
// hidden states and grads' (projected) per-sample gradients. The stages run
// them through feature jobs; `run --dry-run` times them on a short sample.

#include "stage_common.h"
#include "ntks/features/feature_job.h"
#include "ntks/features/project.h"
#include "ntks/features/projector.h"

namespace ntks::cli {

/// select.method less: the gradients are of the loss, the candidates' Adam directions.
bool less_method(const config::Config& cfg);

/// Mean final hidden state per sample, batched by embed.batch_tokens.
features::ComputeRows embed_rows(const config::Config& cfg, StageSetup& s);

/// Rows of `samples` in their order: batches of at most grads.batch_size
/// samples of similar length. With `precondition`, Adam directions of the
/// loss (LESS's candidates); under select.method less the domain's rows are
/// gradients of the loss too. Null `projector`: the unprojected gradient.
features::ComputeRows grads_rows(const config::Config& cfg, StageSetup& s, const features::Projector* projector,
                                 const features::AdamPreconditioner* precondition = nullptr);

}  // namespace ntks::cli
