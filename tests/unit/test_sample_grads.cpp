// Batched per-sample LoRA gradients against an independent reference: each
// sample alone, unpadded, through full vocabulary logits and ordinary
// autograd on the adapter tensors; and against central finite differences.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model_fixture.h"
#include "ntks/data/sample_reader.h"
#include "ntks/features/project.h"
#include "ntks/features/sample_grads.h"
#include "ntks/util/error.h"

using namespace ntks;
using features::Batch;
using config::GradOutput;
using ntks::testing::TempDir;
using ntks::testing::tiny_checkpoint;

namespace {

model::Decoder lora_model(const std::string& path, at::ScalarType dtype = at::kFloat,
                          std::vector<std::string> targets = {}) {
  model::Decoder d = model::Decoder::load(path, dtype, at::kCPU);
  model::LoraSpec spec;
  spec.r = 4;
  spec.alpha = 8;
  if (!targets.empty()) spec.targets = targets;
  d.add_lora(spec, 3);
  // A fresh adapter has B = 0 and so zero A-gradients: make B random.
  at::Generator gen = at::detail::createCPUGenerator(11);
  for (auto& layer : d.layers())
    for (auto& lin : layer.proj)
      if (lin.has_lora()) lin.lora().b = at::empty(lin.lora().b.sizes()).normal_(0, 0.2, gen);
  return d;
}

data::Sample sample(std::vector<int32_t> ids, std::vector<uint8_t> response) {
  data::Sample s;
  s.ids = std::move(ids);
  s.response_mask = std::move(response);
  return s;
}

// Different lengths (so the shorter ones are padded), responses at the end,
// in the middle, at position 0 (ignored) and of one token.
std::vector<data::Sample> samples() {
  return {sample({3, 7, 11, 2, 9, 14, 21, 5, 8}, {0, 0, 0, 1, 1, 1, 1, 1, 1}),
          sample({4, 1, 30, 6, 2}, {1, 0, 1, 1, 0}),
          sample({12, 13, 40, 41, 42, 43, 44}, {0, 0, 0, 0, 0, 0, 1}),
          sample({49, 0, 17, 17, 17, 2}, {1, 1, 1, 0, 1, 1})};
}

Batch batch_of(const std::vector<data::Sample>& s) {
  std::vector<const data::Sample*> ptrs;
  for (const auto& x : s) ptrs.push_back(&x);
  return features::make_batch(ptrs, at::kCPU);
}

// f of one unpadded sample, from the full logits (not lm_head_row_sum).
at::Tensor reference_f(const model::Decoder& d, const data::Sample& s, GradOutput output, double scale) {
  const auto T = static_cast<int64_t>(s.ids.size());
  at::Tensor ids = torch::tensor(std::vector<int64_t>(s.ids.begin(), s.ids.end()), torch::kLong).unsqueeze(0);
  at::Tensor logits = d.logits(d.hidden_states(ids, torch::ones_like(ids))).to(at::kDouble)[0];  // [T, V]
  at::Tensor f = torch::zeros({}, at::kDouble);
  int64_t n = 0;
  for (int64_t t = 1; t < T; ++t) {
    if (!s.response_mask[static_cast<size_t>(t)]) continue;
    ++n;
    if (output == GradOutput::logit_sum)
      f = f + logits[t - 1].sum();
    else
      f = f + torch::log_softmax(logits[t - 1], -1)[s.ids[static_cast<size_t>(t)]];
  }
  return f * (scale / static_cast<double>(n));
}

// ∇ f of one sample over the adapter, flattened in lora_parameters() order.
at::Tensor reference_grad(const model::Decoder& d, const data::Sample& s, GradOutput output, double scale) {
  std::vector<at::Tensor> params = d.lora_parameters();
  for (auto& p : params) p.requires_grad_(true);
  at::Tensor f = reference_f(d, s, output, scale);
  std::vector<at::Tensor> g = torch::autograd::grad({f}, params);
  for (auto& p : params) p.requires_grad_(false);
  std::vector<at::Tensor> flat;
  for (auto& x : g) flat.push_back(x.flatten());
  return torch::cat(flat);
}

at::Tensor reference_grads(const model::Decoder& d, const std::vector<data::Sample>& s, GradOutput output,
                           double scale) {
  std::vector<at::Tensor> rows;
  for (const auto& x : s) rows.push_back(reference_grad(d, x, output, scale));
  return torch::stack(rows);
}

// max |a - b| relative to max |b|.
double rel_err(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>() /
         b.to(at::kDouble).abs().max().item<double>();
}

struct Case {
  model::Arch arch;
  GradOutput output;
};

class SampleGrads : public ::testing::TestWithParam<Case> {};

TEST_P(SampleGrads, BatchedEqualsOneSampleAtATime) {
  TempDir dir;
  model::Decoder d = lora_model(tiny_checkpoint(dir, "m", GetParam().arch));
  const auto s = samples();
  at::Tensor batched = features::batch_features(d, batch_of(s), GetParam().output, 1.0, nullptr);
  at::Tensor ref = reference_grads(d, s, GetParam().output, 1.0);
  ASSERT_EQ(batched.sizes(), ref.sizes());
  EXPECT_EQ(batched.size(1), features::lora_parameter_count(d));
  for (int64_t b = 0; b < ref.size(0); ++b) {
    EXPECT_LT(rel_err(batched[b], ref[b]), 1e-4) << "sample " << b;
    EXPECT_GT(ref[b].abs().max().item<double>(), 1e-3) << "sample " << b;  // not trivially zero
  }
  // The lora_A part is nonzero too (B is random).
  EXPECT_GT(batched.narrow(1, 0, d.lora_parameters()[0].numel()).abs().max().item<double>(), 1e-4);
  // lora_B requires grad only during the call.
  for (const auto& p : d.lora_parameters()) EXPECT_FALSE(p.requires_grad());
}

TEST_P(SampleGrads, EqualsFiniteDifferences) {
  TempDir dir;
  model::Decoder d = lora_model(tiny_checkpoint(dir, "m", GetParam().arch));
  const auto s = samples();
  at::Tensor batched = features::batch_features(d, batch_of(s), GetParam().output, 1.0, nullptr);
  std::vector<at::Tensor> params = d.lora_parameters();
  // In a few tensors (first A, a middle B, the last A and B), the entry of
  // the largest gradient for sample 0 and one fixed entry.
  torch::NoGradGuard no_grad;
  int64_t offset = 0;
  std::vector<std::pair<size_t, int64_t>> picks;  // (tensor, flat index)
  std::vector<int64_t> offsets;
  for (const auto& p : params) {
    offsets.push_back(offset);
    offset += p.numel();
  }
  for (size_t t : {size_t{0}, size_t{5}, params.size() - 2, params.size() - 1}) {
    const int64_t n = params[t].numel();
    picks.push_back({t, batched[0].narrow(0, offsets[t], n).abs().argmax().item<int64_t>()});
    picks.push_back({t, n / 3});
  }
  const double eps = 1e-2;
  for (auto [t, i] : picks) {
    at::Tensor flat = params[t].view({-1});
    const float orig = flat[i].item<float>();
    for (size_t b = 0; b < s.size(); ++b) {
      flat[i] = orig + eps;
      const double fp = reference_f(d, s[b], GetParam().output, 1.0).item<double>();
      flat[i] = orig - eps;
      const double fm = reference_f(d, s[b], GetParam().output, 1.0).item<double>();
      flat[i] = orig;
      const double fd = (fp - fm) / (2 * eps);
      const double g = batched[static_cast<int64_t>(b)][offsets[t] + i].item<double>();
      EXPECT_NEAR(g, fd, 2e-3 + 1e-2 * std::abs(fd)) << "tensor " << t << " index " << i << " sample " << b;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Models, SampleGrads,
                         ::testing::Values(Case{model::Arch::llama, GradOutput::logit_sum},
                                           Case{model::Arch::llama, GradOutput::log_likelihood},
                                           Case{model::Arch::qwen3, GradOutput::logit_sum},
                                           Case{model::Arch::qwen3, GradOutput::log_likelihood}),
                         [](const auto& info) {
                           return std::string(info.param.arch == model::Arch::llama ? "llama" : "qwen3") + "_" +
                                  (info.param.output == GradOutput::logit_sum ? "logit_sum" : "log_likelihood");
                         });

TEST(SampleGradsApi, ScaleMultiplies) {
  TempDir dir;
  model::Decoder d = lora_model(tiny_checkpoint(dir, "m"));
  const Batch b = batch_of(samples());
  at::Tensor one = features::batch_features(d, b, GradOutput::logit_sum, 1.0, nullptr);
  at::Tensor three = features::batch_features(d, b, GradOutput::logit_sum, 3.0, nullptr);
  EXPECT_LT(rel_err(three, one * 3), 1e-5);
  EXPECT_GT(one.abs().max().item<double>(), 1e-3);
}

TEST(SampleGradsApi, LayoutFollowsLoraParameters) {
  TempDir dir;
  // A subset of modules, out of layout order in the spec: the layout is still q, v, down.
  model::Decoder d = lora_model(tiny_checkpoint(dir, "m"), at::kFloat, {"down_proj", "q_proj", "v_proj"});
  const std::vector<at::Tensor> params = d.lora_parameters();
  ASSERT_EQ(params.size(), 2u * 3 * 2);
  std::vector<std::pair<int64_t, int64_t>> seen;
  features::per_sample_grads(d, batch_of(samples()), GradOutput::logit_sum, 1.0,
                             [&](int64_t offset, const at::Tensor& g) {
                               EXPECT_EQ(g.dim(), 2);
                               EXPECT_EQ(g.size(0), 4);
                               EXPECT_EQ(g.scalar_type(), at::kFloat);
                               seen.push_back({offset, g.size(1)});
                             });
  ASSERT_EQ(seen.size(), params.size());
  int64_t offset = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_EQ(seen[i].first, offset) << i;
    EXPECT_EQ(seen[i].second, params[i].numel()) << i;
    offset += params[i].numel();
  }
  EXPECT_EQ(offset, features::lora_parameter_count(d));
  // q: A [4, 32] then B [32, 4]; v: B [16, 4] (2 kv heads x 8); down: A [4, 48].
  EXPECT_EQ(params[0].sizes(), (std::vector<int64_t>{4, 32}));
  EXPECT_EQ(params[3].sizes(), (std::vector<int64_t>{16, 4}));
  EXPECT_EQ(params[4].sizes(), (std::vector<int64_t>{4, 48}));
  // And the values at those offsets are the reference gradients of those tensors.
  at::Tensor batched = features::batch_features(d, batch_of(samples()), GradOutput::logit_sum, 1.0, nullptr);
  at::Tensor ref = reference_grads(d, samples(), GradOutput::logit_sum, 1.0);
  EXPECT_LT(rel_err(batched, ref), 1e-4);
}

TEST(SampleGradsApi, PaddingAndBatchCompanyDoNotMatter) {
  TempDir dir;
  model::Decoder d = lora_model(tiny_checkpoint(dir, "m", model::Arch::qwen3));
  const auto s = samples();
  at::Tensor all = features::batch_features(d, batch_of(s), GradOutput::log_likelihood, 1.0, nullptr);
  at::Tensor alone = features::batch_features(d, batch_of({s[1]}), GradOutput::log_likelihood, 1.0, nullptr);
  EXPECT_LT(rel_err(all[1], alone[0]), 1e-5);
}

TEST(SampleGradsApi, ResponseTokenAtPositionZeroIsIgnored) {
  TempDir dir;
  model::Decoder d = lora_model(tiny_checkpoint(dir, "m"));
  std::vector<data::Sample> with = {sample({4, 1, 30, 6, 2}, {1, 0, 1, 1, 0})};
  std::vector<data::Sample> without = {sample({4, 1, 30, 6, 2}, {0, 0, 1, 1, 0})};
  at::Tensor a = features::batch_features(d, batch_of(with), GradOutput::logit_sum, 1.0, nullptr);
  at::Tensor b = features::batch_features(d, batch_of(without), GradOutput::logit_sum, 1.0, nullptr);
  EXPECT_TRUE(a.equal(b));
  EXPECT_EQ(features::scored_token_counts(batch_of(with))[0].item<int64_t>(), 2);
}

TEST(SampleGradsApi, SampleWithNoScoredTokenIsAnError) {
  TempDir dir;
  model::Decoder d = lora_model(tiny_checkpoint(dir, "m"));
  std::vector<data::Sample> s = samples();
  s.push_back(sample({5, 6, 7}, {1, 0, 0}));  // only position 0
  const Batch b = batch_of(s);
  at::Tensor counts = features::scored_token_counts(b);
  EXPECT_TRUE(counts.equal(torch::tensor({6, 2, 1, 4, 0}, torch::kLong)));
  const std::string msg = ntks::testing::error_of<InputError>(
      [&] { features::per_sample_grads(d, b, GradOutput::logit_sum, 1.0, [](int64_t, const at::Tensor&) {}); });
  EXPECT_NE(msg.find("batch row 4"), std::string::npos) << msg;
  EXPECT_NE(msg.find("position 0"), std::string::npos) << msg;
  for (const auto& p : d.lora_parameters()) EXPECT_FALSE(p.requires_grad());
}

TEST(SampleGradsApi, ProjectedEqualsProjectionOfUnprojected) {
  TempDir dir;
  model::Decoder d = lora_model(tiny_checkpoint(dir, "m"));
  const Batch b = batch_of(samples());
  features::Projector proj(42, 256, /*block_rows=*/100);
  at::Tensor full = features::batch_features(d, b, GradOutput::logit_sum, 1.0, nullptr);
  at::Tensor projected = features::batch_features(d, b, GradOutput::logit_sum, 1.0, &proj);
  ASSERT_EQ(projected.sizes(), (std::vector<int64_t>{4, 256}));
  at::Tensor dense = torch::matmul(full.to(at::kDouble), proj.rows(0, full.size(1)).to(at::kDouble)) / 16.0;
  EXPECT_LT(rel_err(projected, dense), 1e-5);
}

TEST(SampleGradsApi, Bf16BaseWeights) {
  TempDir dir;
  const std::string path = tiny_checkpoint(dir, "m");
  model::Decoder d = lora_model(path, at::kBFloat16);
  const auto s = samples();
  at::Tensor batched = features::batch_features(d, batch_of(s), GradOutput::logit_sum, 1.0, nullptr);
  EXPECT_EQ(batched.scalar_type(), at::kFloat);
  // Same adapter on fp32 weights: bf16 rounding of the base path only.
  model::Decoder f32 = lora_model(path, at::kFloat);
  at::Tensor ref = reference_grads(f32, s, GradOutput::logit_sum, 1.0);
  for (int64_t b = 0; b < ref.size(0); ++b) {
    const double rel = ((batched[b].to(at::kDouble) - ref[b].to(at::kDouble)).norm() / ref[b].to(at::kDouble).norm())
                           .item<double>();
    EXPECT_LT(rel, 5e-2) << "sample " << b;
  }
}

}  // namespace
