// The warm-up loss against an independent per-sample computation on a tiny
// model, and the trainer: the loss goes down, accumulation does not change
// the result, dropout runs are reproducible.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <random>

#include "model_fixture.h"
#include "ntks/dist/communicator.h"
#include "ntks/features/batching.h"
#include "ntks/model/decoder.h"
#include "ntks/train/loss.h"
#include "ntks/train/trainer.h"
#include "ntks/util/error.h"

namespace {

using namespace ntks;

/// Random samples of 3..12 tokens; the response is a tail of each.
std::vector<data::Sample> random_samples(int n, int64_t vocab, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<data::Sample> out(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    auto& s = out[static_cast<size_t>(i)];
    s.index = i;
    const size_t len = 3 + rng() % 10, prompt = 1 + rng() % (len - 1);
    for (size_t t = 0; t < len; ++t) {
      s.ids.push_back(static_cast<int32_t>(rng() % static_cast<uint64_t>(vocab)));
      s.response_mask.push_back(t >= prompt ? 1 : 0);
    }
  }
  return out;
}

model::Decoder tiny_decoder(const ntks::testing::TempDir& dir, double dropout = 0) {
  model::Decoder dec = model::Decoder::load(ntks::testing::tiny_checkpoint(dir, "m"), at::kFloat, at::kCPU);
  model::LoraSpec spec;
  spec.r = 4;
  spec.alpha = 8;
  spec.dropout = dropout;
  dec.add_lora(spec, 7);
  return dec;
}

train::TrainOptions small_options() {
  train::TrainOptions o;
  o.epochs = 2;
  o.lr = 1e-2;
  o.warmup_ratio = 0.1;
  o.batch_size = 4;
  o.grad_accum = 2;
  o.seed = 5;
  return o;
}

TEST(TrainLoss, EqualsAPerSampleComputationWithoutPadding) {
  ntks::testing::TempDir dir;
  model::Decoder dec = tiny_decoder(dir);
  // A non-zero B so that the adapter takes part in the forward pass.
  for (auto& p : dec.lora_parameters()) p.uniform_(-0.2, 0.2);
  const auto samples = random_samples(5, dec.config().vocab_size, 11);
  std::vector<const data::Sample*> ptrs;
  for (const auto& s : samples) ptrs.push_back(&s);
  const features::Batch batch = features::make_batch(ptrs, at::kCPU);
  torch::NoGradGuard no_grad;
  const at::Tensor loss = train::response_nll(dec, dec.hidden_states(batch.ids, batch.mask), batch);
  ASSERT_EQ(loss.size(0), 5);
  for (size_t i = 0; i < samples.size(); ++i) {
    const auto& s = samples[i];
    const auto T = static_cast<int64_t>(s.ids.size());
    at::Tensor ids = torch::tensor(std::vector<int64_t>(s.ids.begin(), s.ids.end())).unsqueeze(0);
    at::Tensor logp = torch::log_softmax(dec.logits(dec.hidden_states(ids, torch::ones_like(ids)))[0].to(at::kDouble), -1);
    double sum = 0;
    int count = 0;
    for (int64_t t = 1; t < T; ++t)
      if (s.response_mask[static_cast<size_t>(t)]) {
        sum -= logp[t - 1][s.ids[static_cast<size_t>(t)]].item<double>();
        ++count;
      }
    ASSERT_GT(count, 0);
    EXPECT_NEAR(loss[static_cast<int64_t>(i)].item<double>(), sum / count, 1e-5) << "sample " << i;
  }
}

TEST(TrainLoop, LossDecreasesAndTheLogIsComplete) {
  ntks::testing::TempDir dir;
  model::Decoder dec = tiny_decoder(dir);
  const auto samples = random_samples(16, dec.config().vocab_size, 1);
  auto comm = dist::make_local();
  train::TrainOptions o = small_options();
  o.epochs = 8;
  std::vector<train::StepLog> log;
  const auto r = train::train_lora(dec, samples, o, *comm, [&](const train::StepLog& s) { log.push_back(s); });
  EXPECT_EQ(r.steps_per_epoch, 2);
  EXPECT_EQ(r.steps, 16);
  EXPECT_EQ(r.warmup_steps, 2);  // ceil(0.1 * 16)
  ASSERT_EQ(log.size(), 16u);
  EXPECT_DOUBLE_EQ(log[0].lr, 0.0);
  EXPECT_DOUBLE_EQ(log[2].lr, 1e-2);
  EXPECT_DOUBLE_EQ(log[15].epoch, 8.0);
  EXPECT_EQ(log[0].samples, 8);
  EXPECT_LT(r.last_loss, 0.8 * r.first_loss) << r.first_loss << " -> " << r.last_loss;
  EXPECT_FALSE(dec.lora_parameters()[0].requires_grad());
}

TEST(TrainLoop, AccumulationDoesNotChangeTheResult) {
  ntks::testing::TempDir dir;
  model::Decoder a = tiny_decoder(dir), b = tiny_decoder(dir);
  const auto samples = random_samples(20, a.config().vocab_size, 2);  // 20 = 2 x 8 + a last step of 4
  auto comm = dist::make_local();
  train::TrainOptions o = small_options();  // 4 x 2
  std::vector<double> loss_a, loss_b;
  train::train_lora(a, samples, o, *comm, [&](const train::StepLog& s) { loss_a.push_back(s.loss); });
  o.batch_size = 8;
  o.grad_accum = 1;
  train::train_lora(b, samples, o, *comm, [&](const train::StepLog& s) { loss_b.push_back(s.loss); });
  ASSERT_EQ(loss_a.size(), 6u);
  ASSERT_EQ(loss_b.size(), 6u);
  for (size_t i = 0; i < loss_a.size(); ++i) EXPECT_NEAR(loss_a[i], loss_b[i], 1e-5) << "step " << i;
  const auto pa = a.lora_parameters(), pb = b.lora_parameters();
  double moved = 0;
  for (size_t i = 0; i < pa.size(); ++i) {
    EXPECT_TRUE(torch::allclose(pa[i], pb[i], 1e-4, 1e-6)) << i << ": " << (pa[i] - pb[i]).abs().max();
    if (i % 2 == 1) moved += pb[i].abs().sum().item<double>();  // B started at 0
  }
  EXPECT_GT(moved, 0);
}

TEST(TrainLoop, ClippingBoundsTheStepAndDropoutIsSeeded) {
  ntks::testing::TempDir dir;
  const auto samples = random_samples(8, 50, 3);
  auto comm = dist::make_local();
  train::TrainOptions o = small_options();
  o.epochs = 3;
  o.max_grad_norm = 1e-3;
  std::vector<double> norms;
  model::Decoder c = tiny_decoder(dir);
  train::train_lora(c, samples, o, *comm, [&](const train::StepLog& s) { norms.push_back(s.grad_norm); });
  for (double n : norms) EXPECT_GT(n, 1e-3);  // every step was clipped: the log keeps the norm before

  // Dropout: the same seed gives the same weights bitwise; the masks are
  // really applied (the result differs from a run without dropout).
  o.max_grad_norm = 1;
  model::Decoder d1 = tiny_decoder(dir, 0.3), d2 = tiny_decoder(dir, 0.3), d3 = tiny_decoder(dir, 0);
  train::train_lora(d1, samples, o, *comm);
  train::train_lora(d2, samples, o, *comm);
  train::train_lora(d3, samples, o, *comm);
  const auto p1 = d1.lora_parameters(), p2 = d2.lora_parameters(), p3 = d3.lora_parameters();
  bool differs = false;
  for (size_t i = 0; i < p1.size(); ++i) {
    EXPECT_TRUE(torch::equal(p1[i], p2[i])) << i;
    differs = differs || !torch::equal(p1[i], p3[i]);
  }
  EXPECT_TRUE(differs);
}

TEST(TrainLoop, BadOptionsNameTheKey) {
  ntks::testing::TempDir dir;
  model::Decoder dec = tiny_decoder(dir);
  auto comm = dist::make_local();
  train::TrainOptions o = small_options();
  o.grad_accum = 0;
  const auto samples = random_samples(2, 50, 4);
  EXPECT_NE(ntks::testing::error_of<ConfigError>([&] { train::train_lora(dec, samples, o, *comm); }).find("warmup.grad_accum"),
            std::string::npos);
  EXPECT_NE(ntks::testing::error_of<InputError>([&] { train::train_lora(dec, {}, small_options(), *comm); }).find("no samples"),
            std::string::npos);
}

}  // namespace
