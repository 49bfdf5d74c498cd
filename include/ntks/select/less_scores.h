#pragma once
// The score of select.method less (LESS, Xia et al. 2024, as the paper's
// appendix A.6.2 runs it): the cosine between a candidate's projected Adam
// direction (grads of the LESS warm-up, features/project.h) and each domain
// sample's projected SGD gradient, reduced over the domain samples by their
// maximum (LESS takes the max over target subtasks; each domain sample is one
// here) or their mean.

#include <torch/torch.h>

#include <cstdint>

namespace ntks::select {

/// Rows of `domain` [n, d] scaled to unit length, in float64; InputError
/// naming `source` when a row is all zeros (its cosine is undefined).
at::Tensor unit_rows(const at::Tensor& domain, const std::string& source);

/// Scores of `count` candidate rows (float32, row-major [count, d]) against
/// unit domain rows [n, d] (float64): max (or mean) over domain samples of the
/// cosine. A zero candidate row scores its cosine 0. Each score depends only
/// on its own row, so the values do not depend on how rows are split.
void less_scores(const float* rows, int64_t count, const at::Tensor& unit_domain, bool use_max, double* out);

}  // namespace ntks::select
