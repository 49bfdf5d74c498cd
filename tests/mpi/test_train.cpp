// Data-parallel warm-up under mpirun (1, 2, 3 ranks): every rank ends with
// bitwise identical LoRA weights, with and without dropout, including steps
// that leave some ranks without samples; and with dropout 0 the weights match
// a single-process run within floating-point tolerance.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <random>

#include "../unit/model_fixture.h"
#include "mpi_env.h"
#include "ntks/model/decoder.h"
#include "ntks/train/trainer.h"
#include "ntks/util/error.h"

namespace {

using namespace ntks;

std::vector<data::Sample> samples_for_test(int n, int64_t vocab) {
  std::mt19937_64 rng(9);
  std::vector<data::Sample> out(static_cast<size_t>(n));
  for (auto& s : out) {
    const size_t len = 3 + rng() % 12, prompt = 1 + rng() % (len - 1);
    for (size_t t = 0; t < len; ++t) {
      s.ids.push_back(static_cast<int32_t>(rng() % static_cast<uint64_t>(vocab)));
      s.response_mask.push_back(t >= prompt ? 1 : 0);
    }
  }
  return out;
}

model::Decoder decoder(const ntks::testing::TempDir& dir, double dropout) {
  model::Decoder d = model::Decoder::load(ntks::testing::tiny_checkpoint(dir, "m"), at::kFloat, at::kCPU);
  model::LoraSpec spec;
  spec.r = 4;
  spec.alpha = 8;
  spec.dropout = dropout;
  d.add_lora(spec, 3);
  return d;
}

train::TrainOptions options() {
  train::TrainOptions o;
  o.epochs = 2;
  o.lr = 1e-2;
  o.batch_size = 2;
  o.grad_accum = 2;
  o.seed = 8;
  return o;
}

/// Rank 0's weights broadcast and compared bit for bit on every rank.
void expect_same_as_rank0(const std::vector<at::Tensor>& params) {
  for (size_t i = 0; i < params.size(); ++i) {
    at::Tensor root = params[i].clone();
    ntks::testing::comm().broadcast(root, 0);
    EXPECT_TRUE(torch::equal(root, params[i])) << "rank " << ntks::testing::comm().rank() << " tensor " << i;
  }
}

TEST(MpiTrain, WeightsAreBitwiseIdenticalOnEveryRank) {
  for (double dropout : {0.0, 0.2}) {
    ntks::testing::TempDir dir;
    model::Decoder d = decoder(dir, dropout);
    // 13 samples, steps of 4: the last step of each epoch has 1 sample, so
    // with 2 or 3 ranks some ranks compute nothing in it.
    std::vector<double> losses;
    const auto r = train::train_lora(d, samples_for_test(13, 50), options(), ntks::testing::comm(),
                                     [&](const train::StepLog& s) { losses.push_back(s.loss); });
    EXPECT_EQ(r.steps, 8);
    expect_same_as_rank0(d.lora_parameters());
    at::Tensor l = torch::tensor(losses, at::kDouble), root = l.clone();
    ntks::testing::comm().broadcast(root, 0);
    EXPECT_TRUE(torch::equal(l, root)) << "logged losses differ from rank 0's";
  }
}

TEST(MpiTrain, SameWeightsAsOneProcessWithoutDropout) {
  ntks::testing::TempDir dir;
  model::Decoder parallel = decoder(dir, 0), single = decoder(dir, 0);
  const auto samples = samples_for_test(13, 50);
  auto local = dist::make_local();
  train::train_lora(parallel, samples, options(), ntks::testing::comm());
  train::train_lora(single, samples, options(), *local);
  const auto a = parallel.lora_parameters(), b = single.lora_parameters();
  double moved = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(torch::allclose(a[i], b[i], 1e-4, 1e-6)) << "tensor " << i << ": max diff "
                                                         << (a[i] - b[i]).abs().max().item<double>();
    if (i % 2 == 1) moved += a[i].abs().sum().item<double>();
  }
  EXPECT_GT(moved, 0);
}

TEST(MpiTrain, DivergedWeightsAreDetected) {
  at::Tensor t = torch::full({3}, 1.0f);
  EXPECT_NO_THROW(train::check_identical_across_ranks({t}, ntks::testing::comm()));
  if (ntks::testing::comm().size() < 2) return;
  if (ntks::testing::comm().rank() == 1) t[2] = std::nextafter(1.0f, 2.0f);
  EXPECT_THROW(train::check_identical_across_ranks({t}, ntks::testing::comm()), DistError);
}

}  // namespace
