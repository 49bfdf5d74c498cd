// The compute functions of the feature stages (stage_rows.h).

#include "stage_rows.h"

#include "ntks/config/enums.h"
#include "ntks/features/embed.h"
#include "ntks/features/sample_grads.h"
#include "ntks/util/error.h"

namespace ntks::cli {

bool less_method(const config::Config& cfg) { return cfg.select.method == config::SelectMethod::less; }

features::ComputeRows embed_rows(const config::Config& cfg, StageSetup& s) {
  return [&cfg, &s](const std::vector<data::Sample>& samples) {
    return features::embed_samples(s.dec, samples, cfg.embed.batch_tokens);
  };
}

features::ComputeRows grads_rows(const config::Config& cfg, StageSetup& s, const features::Projector* projector,
                                 const features::AdamPreconditioner* precondition) {
  const config::GradOutput output = less_method(cfg) ? config::GradOutput::log_likelihood : cfg.grads.output;
  const double scale = less_method(cfg) ? -cfg.grads.scale : cfg.grads.scale;  // the loss: minus the log-likelihood
  return [&cfg, &s, projector, precondition, output, scale](const std::vector<data::Sample>& samples) {
    std::vector<int64_t> lengths;
    for (const data::Sample& x : samples) lengths.push_back(static_cast<int64_t>(x.ids.size()));
    const int64_t dim = projector ? projector->dim() : features::lora_parameter_count(s.dec);
    at::Tensor out = at::empty({static_cast<int64_t>(samples.size()), dim}, at::kFloat);
    const auto batches = features::batches_by_tokens(lengths, INT64_MAX, cfg.grads.batch_size, features::kMaxPadding);
    for (const auto& rows : batches) {
      std::vector<const data::Sample*> batch;
      std::vector<int64_t> positions;
      for (size_t r : rows) {
        batch.push_back(&samples[r]);
        positions.push_back(static_cast<int64_t>(r));
      }
      const features::Batch b = features::make_batch(batch, s.dec.device());
      const at::Tensor scored = features::scored_token_counts(b);
      for (size_t i = 0; i < batch.size(); ++i)
        if (scored[static_cast<int64_t>(i)].item<int64_t>() == 0)
          throw InputError(fmt::format("{}: its only response token is the first token, which no position predicts",
                                       batch[i]->id));
      const at::Tensor g = features::batch_features(s.dec, b, output, scale, projector, precondition).cpu();
      out.index_copy_(0, at::tensor(positions, at::kLong), g);
    }
    return out;
  };
}

}  // namespace ntks::cli
