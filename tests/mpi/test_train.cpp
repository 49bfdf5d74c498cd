// Data-parallel warm-up under mpirun (1, 2, 3 ranks): every rank ends with
// bitwise identical LoRA weights, with and without dropout, including steps
// that leave some ranks without samples; and the weights and losses have the
// bits of a single-process run, with and without dropout.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <random>

#include "../unit/model_fixture.h"
#include "mpi_env.h"
#include "ntks/model/decoder.h"
#include "ntks/train/exact_sum.h"
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

// Micro-batches fixed by the step, dropout keyed by (step, micro-batch) and
// gradients summed exactly (train/exact_sum.h): the same bits as one process.
TEST(MpiTrain, BitwiseTheWeightsOfOneProcessWithAndWithoutDropout) {
  for (double dropout : {0.0, 0.2}) {
    ntks::testing::TempDir dir;
    model::Decoder parallel = decoder(dir, dropout), single = decoder(dir, dropout);
    const auto samples = samples_for_test(13, 50);
    auto local = dist::make_local();
    std::vector<double> lp, ls;
    train::train_lora(parallel, samples, options(), ntks::testing::comm(),
                      [&](const train::StepLog& s) { lp.push_back(s.loss); });
    train::train_lora(single, samples, options(), *local, [&](const train::StepLog& s) { ls.push_back(s.loss); });
    const auto a = parallel.lora_parameters(), b = single.lora_parameters();
    double moved = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_TRUE(torch::equal(a[i], b[i])) << "dropout " << dropout << " tensor " << i << ": max diff "
                                            << (a[i] - b[i]).abs().max().item<double>();
      if (i % 2 == 1) moved += a[i].abs().sum().item<double>();
    }
    EXPECT_GT(moved, 0);
    EXPECT_EQ(lp, ls) << "dropout " << dropout;
  }
}

// exact_sum: vectors of mixed magnitudes dealt to the ranks in another order
// sum to the bits one process gets, close to a float64 sum.
TEST(MpiTrain, ExactSumHasTheSameBitsWhateverTheSplit) {
  auto& c = ntks::testing::comm();
  torch::manual_seed(4);
  std::vector<at::Tensor> all;
  for (int k = 0; k < 7; ++k) all.push_back(torch::randn({33}) * std::pow(10.0, k % 4 - 2));
  std::vector<at::Tensor> mine, reversed(all.rbegin(), all.rend());
  for (size_t k = static_cast<size_t>(c.rank()); k < all.size(); k += static_cast<size_t>(c.size())) mine.push_back(all[k]);
  const auto opts = torch::TensorOptions().dtype(at::kFloat);
  const auto spread = train::exact_sum(mine, {32, 1}, 7, c.rank() == c.size() - 1, opts, c);
  auto local = dist::make_local();
  const auto one = train::exact_sum(reversed, {32, 1}, 7, false, opts, *local);
  EXPECT_TRUE(torch::equal(spread.sum, one.sum));
  EXPECT_TRUE(spread.flag) << "the last rank's flag reaches every rank";
  EXPECT_FALSE(one.flag);
  at::Tensor exact = at::zeros({33}, at::kDouble);
  for (const auto& v : all) exact += v.to(at::kDouble);
  EXPECT_LT((one.sum - exact).abs().max().item<double>(), 1e-15 * exact.abs().max().item<double>());
  // A rank without vectors takes part; a NaN anywhere gives NaN sums.
  std::vector<at::Tensor> nan;
  if (c.is_root()) nan.push_back(torch::full({33}, std::nanf("")));
  const auto bad = train::exact_sum(nan, {33}, 1, false, opts, c);
  EXPECT_TRUE(torch::isnan(bad.sum).all().item<bool>());
}

TEST(MpiTrain, DivergedWeightsAreDetected) {
  at::Tensor t = torch::full({3}, 1.0f);
  EXPECT_NO_THROW(train::check_identical_across_ranks({t}, ntks::testing::comm()));
  if (ntks::testing::comm().size() < 2) return;
  if (ntks::testing::comm().rank() == 1) t[2] = std::nextafter(1.0f, 2.0f);
  EXPECT_THROW(train::check_identical_across_ranks({t}, ntks::testing::comm()), DistError);
}

}  // namespace
