#include "ntks/features/embed.h"

namespace ntks::features {

at::Tensor mean_embeddings(const model::Decoder& dec, const Batch& batch) {
  torch::NoGradGuard no_grad;
  const at::Tensor hidden = dec.hidden_states(batch.ids, batch.mask).to(at::kFloat);
  const at::Tensor m = batch.mask.to(at::kFloat).unsqueeze(-1);
  return (hidden * m).sum(1) / m.sum(1).clamp_min(1);
}

int64_t embed_batch_tokens(int64_t configured, at::Device device) {
  if (configured > 0) return configured;
  return device.is_cpu() ? 4096 : 16384;
}

at::Tensor embed_samples(const model::Decoder& dec, const std::vector<data::Sample>& samples, int64_t batch_tokens) {
  batch_tokens = embed_batch_tokens(batch_tokens, dec.device());
  std::vector<int64_t> lengths;
  lengths.reserve(samples.size());
  for (const data::Sample& s : samples) lengths.push_back(static_cast<int64_t>(s.ids.size()));
  at::Tensor out = at::empty({static_cast<int64_t>(samples.size()), dec.config().hidden_size}, at::kFloat);
  for (const std::vector<size_t>& rows : batches_by_tokens(lengths, batch_tokens, 0, kMaxPadding)) {
    std::vector<const data::Sample*> batch;
    std::vector<int64_t> positions;
    for (size_t r : rows) {
      batch.push_back(&samples[r]);
      positions.push_back(static_cast<int64_t>(r));
    }
    const at::Tensor e = mean_embeddings(dec, make_batch(batch, dec.device())).cpu();
    out.index_copy_(0, at::tensor(positions, at::kLong), e);
  }
  return out;
}

}  // namespace ntks::features
