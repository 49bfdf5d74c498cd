// The warm-up's building blocks against hand-computed values: Hugging Face's
// schedules, PyTorch's AdamW, clipping by global norm, and the step plan
// (shuffled epochs, samples dealt to ranks).

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "ntks/train/adamw.h"
#include "ntks/train/clip.h"
#include "ntks/train/plan.h"
#include "ntks/train/schedule.h"

namespace {

using ntks::config::Schedule;
namespace train = ntks::train;

TEST(TrainSchedule, WarmupStepsAreTheCeilingOfRatioTimesSteps) {
  EXPECT_EQ(train::warmup_steps(0.03, 100), 3);
  EXPECT_EQ(train::warmup_steps(0.03, 10), 1);   // ceil(0.3)
  EXPECT_EQ(train::warmup_steps(0.03, 1), 1);
  EXPECT_EQ(train::warmup_steps(0.0, 50), 0);
  EXPECT_EQ(train::warmup_steps(0.07, 100), 8);  // 100 * 0.07 = 7.000000000000001 in doubles: Python gives 8 too
}

TEST(TrainSchedule, LinearWarmupThenCosineLinearOrConstant) {
  const double lr = 5e-4;
  // 10 steps, 2 of warm-up: step 0 runs at 0 (HF steps the scheduler after the optimizer).
  for (Schedule s : {Schedule::cosine, Schedule::linear, Schedule::constant}) {
    EXPECT_DOUBLE_EQ(train::learning_rate(s, lr, 0, 10, 2), 0.0);
    EXPECT_DOUBLE_EQ(train::learning_rate(s, lr, 1, 10, 2), lr * 0.5);
    EXPECT_DOUBLE_EQ(train::learning_rate(s, lr, 2, 10, 2), lr);
  }
  // cosine: progress (step - 2) / 8; 0.5 (1 + cos(pi p)).
  EXPECT_NEAR(train::learning_rate(Schedule::cosine, lr, 4, 10, 2), lr * 0.8535533905932737, 1e-15);
  EXPECT_NEAR(train::learning_rate(Schedule::cosine, lr, 6, 10, 2), lr * 0.5, 1e-15);
  EXPECT_NEAR(train::learning_rate(Schedule::cosine, lr, 9, 10, 2), lr * 0.03806023374435663, 1e-15);
  // linear: (10 - step) / 8.
  EXPECT_NEAR(train::learning_rate(Schedule::linear, lr, 6, 10, 2), lr * 0.5, 1e-15);
  EXPECT_NEAR(train::learning_rate(Schedule::linear, lr, 9, 10, 2), lr * 0.125, 1e-15);
  EXPECT_DOUBLE_EQ(train::learning_rate(Schedule::constant, lr, 9, 10, 2), lr);
  // No warm-up: the first step runs at the full rate.
  EXPECT_DOUBLE_EQ(train::learning_rate(Schedule::cosine, lr, 0, 10, 0), lr);
  EXPECT_NEAR(train::learning_rate(Schedule::cosine, lr, 5, 10, 0), lr * 0.5, 1e-15);
}

TEST(TrainAdamW, StepMatchesAHandComputedStep) {
  at::Tensor p = torch::tensor({1.0f, -2.0f, 0.5f});
  train::AdamWOptions o;
  o.weight_decay = 0.01;
  train::AdamW opt({p}, o);
  const std::vector<std::vector<double>> grads = {{0.5, -1.0, 0.0}, {0.25, 3.0, -1e-3}};
  const std::vector<double> lrs = {0.1, 0.05};
  std::vector<double> x = {1.0, -2.0, 0.5}, m(3, 0), v(3, 0);
  for (size_t t = 0; t < grads.size(); ++t) {
    opt.step({torch::tensor(std::vector<float>(grads[t].begin(), grads[t].end()))}, lrs[t]);
    const double bc1 = 1 - std::pow(0.9, t + 1), bc2 = 1 - std::pow(0.999, t + 1);
    for (size_t i = 0; i < 3; ++i) {
      const double g = grads[t][i];
      x[i] *= 1 - lrs[t] * 0.01;
      m[i] = 0.9 * m[i] + 0.1 * g;
      v[i] = 0.999 * v[i] + 0.001 * g * g;
      x[i] -= lrs[t] / bc1 * m[i] / (std::sqrt(v[i]) / std::sqrt(bc2) + 1e-8);
    }
  }
  for (size_t i = 0; i < 3; ++i) EXPECT_NEAR(p[i].item<double>(), x[i], 1e-6) << i;
  // The first step of Adam moves every coordinate with a non-zero gradient by
  // about lr: a check that the expected values are not trivially the inputs.
  EXPECT_GT(std::abs(x[0] - 1.0), 0.1);
}

TEST(TrainAdamW, AgreesWithTorchOptimAdamW) {
  torch::manual_seed(3);
  at::Tensor mine = torch::randn({4, 5}), ref = mine.clone().requires_grad_(true);
  train::AdamWOptions o;
  o.weight_decay = 0.1;
  train::AdamW opt({mine}, o);
  torch::optim::AdamW torch_opt({ref}, torch::optim::AdamWOptions(2e-3).weight_decay(0.1));
  for (int t = 0; t < 5; ++t) {
    at::Tensor g = torch::randn({4, 5});
    opt.step({g}, 2e-3);
    ref.mutable_grad() = g.clone();
    torch_opt.step();
  }
  EXPECT_TRUE(torch::allclose(mine, ref.detach(), 1e-6, 1e-7)) << (mine - ref.detach()).abs().max();
}

TEST(TrainAdamW, DecayOnlyWhereAskedAndRestoreContinuesExactly) {
  // Zero gradients: only the decoupled decay moves a parameter.
  at::Tensor a = torch::ones({3}), b = torch::ones({3});
  train::AdamWOptions o;
  o.weight_decay = 0.5;
  train::AdamW opt({a, b}, o, {true, false});
  opt.step({torch::zeros({3}), torch::zeros({3})}, 0.1);
  EXPECT_FLOAT_EQ(a[0].item<float>(), 0.95f);
  EXPECT_FLOAT_EQ(b[0].item<float>(), 1.0f);

  // Two steps in one run equal one step, a restore into a fresh optimizer, and the second step.
  torch::manual_seed(5);
  const at::Tensor g1 = torch::randn({2, 3}), g2 = torch::randn({2, 3}), start = torch::randn({2, 3});
  at::Tensor x = start.clone(), y = start.clone();
  train::AdamW whole({x}, o);
  whole.step({g1}, 0.01);
  whole.step({g2}, 0.01);
  train::AdamW first({y}, o);
  first.step({g1}, 0.01);
  at::Tensor y2 = y.clone();
  train::AdamW resumed({y2}, o);
  resumed.restore(first.steps(), first.first_moments(), first.second_moments());
  resumed.step({g2}, 0.01);
  EXPECT_TRUE(torch::equal(x, y2)) << (x - y2).abs().max();
  EXPECT_EQ(resumed.steps(), 2);
}

TEST(TrainClip, ScalesOnlyAboveTheMaximumAndReturnsTheNormBefore) {
  at::Tensor g = torch::tensor({3.0f, 4.0f});
  EXPECT_NEAR(train::clip_by_global_norm(g, 10), 5.0, 1e-6);
  EXPECT_FLOAT_EQ(g[1].item<float>(), 4.0f);
  EXPECT_NEAR(train::clip_by_global_norm(g, 1), 5.0, 1e-6);
  EXPECT_NEAR(g[0].item<double>(), 3.0 / (5.0 + 1e-6), 1e-7);
  EXPECT_NEAR(g.norm().item<double>(), 1.0, 1e-6);
  at::Tensor h = torch::tensor({30.0f, 40.0f});
  EXPECT_NEAR(train::clip_by_global_norm(h, 0), 50.0, 1e-5);  // 0: off
  EXPECT_FLOAT_EQ(h[0].item<float>(), 30.0f);
}

TEST(TrainPlan, EpochOrderIsASeededPermutation) {
  const auto a = train::epoch_order(100, 42, 0);
  auto sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) ASSERT_EQ(sorted[i], i);
  EXPECT_EQ(a, train::epoch_order(100, 42, 0));
  EXPECT_NE(a, train::epoch_order(100, 42, 1));
  EXPECT_NE(a, train::epoch_order(100, 43, 0));
  EXPECT_EQ(train::epoch_order(0, 1, 0).size(), 0u);
  EXPECT_EQ(train::steps_per_epoch(10, 4), 3);
  EXPECT_EQ(train::steps_per_epoch(8, 4), 2);
}

TEST(TrainPlan, MicroBatchesDoNotDependOnTheRankCountAndRanksShareThemOnce) {
  const std::vector<int64_t> lengths = {5, 9, 2, 9, 7, 1, 3, 8, 6, 4};
  const std::vector<size_t> step = {7, 2, 9, 0, 5, 1, 3};
  const auto micro = train::step_micro_batches(step, lengths, 2);
  // Longest first (ties by position in the step), cut into batches of 2.
  const std::vector<std::vector<size_t>> want = {{1, 3}, {7, 0}, {9, 2}, {5}};
  EXPECT_EQ(micro, want);
  for (int size : {1, 2, 3, 8}) {
    std::multiset<size_t> seen;
    for (int rank = 0; rank < size; ++rank)
      for (size_t m : train::rank_share(micro, lengths, rank, size)) seen.insert(m);
    EXPECT_EQ(seen, std::multiset<size_t>({0, 1, 2, 3})) << size << " ranks";
  }
  // Dealt by padded tokens to the least loaded rank: costs 18, 16, 8, 1 on
  // two ranks go 0, 1, 1 (16 < 18), 0 (18 < 24).
  EXPECT_EQ(train::rank_share(micro, lengths, 0, 2), (std::vector<size_t>{0, 3}));
  EXPECT_EQ(train::rank_share(micro, lengths, 1, 2), (std::vector<size_t>{1, 2}));
  EXPECT_TRUE(train::rank_share(micro, lengths, 7, 8).empty());  // more ranks than micro-batches
}

}  // namespace
