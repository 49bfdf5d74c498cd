// The whole warm-up against an independent replay in Python: the reference
// decoder of tests/reference/hf_reference.py, torch.optim.AdamW, a LambdaLR
// with Hugging Face's cosine-with-warm-up formula, torch's clip_grad_norm_
// and the epoch order re-implemented from plan.h's description. Step by step
// the learning rate, loss and gradient norm agree, and so do the final
// adapters; this checks the loss definition, the averaging of a short last
// step, clipping, the schedule and AdamW with weight decay together.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "model_fixture.h"
#include "ntks/dist/communicator.h"
#include "ntks/model/adapter.h"
#include "ntks/train/trainer.h"

namespace {

using namespace ntks;

constexpr const char* kReplay = R"PY(
import json, math, sys
sys.path.insert(0, sys.argv[2])
import torch
import hf_reference as ref
d = sys.argv[1]
o = json.load(open(d + "/options.json"))
M = (1 << 64) - 1
def mix(x):
    x = (x + 0x9E3779B97F4A7C15) & M
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M
    return x ^ (x >> 31)
def order(n, seed, epoch):  # Fisher-Yates on a SplitMix64 stream, multiply-shift to [0, i)
    p = list(range(n)); s = mix(seed ^ mix(epoch + 1))
    for i in range(n, 1, -1):
        s = mix(s); j = (s * i) >> 64; p[i - 1], p[j] = p[j], p[i - 1]
    return p
model = ref.Model(d + "/model", torch.float32, d + "/adapter")
params = []
for name in sorted(model.lora):
    a, b, _ = model.lora[name]
    params += [a.requires_grad_(True), b.requires_grad_(True)]
samples = [json.loads(l) for l in open(d + "/samples.jsonl")]
n, S, epochs = len(samples), o["step_samples"], o["epochs"]
spe = math.ceil(n / S); total = epochs * spe; warm = math.ceil(total * o["warmup_ratio"])
def cosine(step):  # transformers.get_cosine_schedule_with_warmup
    if step < warm: return step / max(1, warm)
    p = (step - warm) / max(1, total - warm)
    return max(0.0, 0.5 * (1 + math.cos(math.pi * p)))
opt = torch.optim.AdamW(params, lr=o["lr"], weight_decay=o["weight_decay"], eps=1e-8)
sched = torch.optim.lr_scheduler.LambdaLR(opt, cosine)
def sample_loss(s):
    _, logits = model.forward(s["ids"])
    lp = torch.log_softmax(logits.double(), -1)
    terms = [-lp[t - 1, s["ids"][t]] for t in range(1, len(s["ids"])) if s["mask"][t]]
    return sum(terms) / len(terms)
for e in range(epochs):
    p = order(n, o["seed"], e)
    for k in range(spe):
        idx = p[k * S:(k + 1) * S]
        loss = sum(sample_loss(samples[i]) for i in idx) / len(idx)
        opt.zero_grad(); loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(params, o["max_grad_norm"])
        lr = opt.param_groups[0]["lr"]
        opt.step(); sched.step()
        print(json.dumps({"lr": lr, "loss": loss.item(), "grad_norm": norm.item()}))
out = ref.read_safetensors(d + "/out/adapter_model.safetensors")
worst = 0.0
for name in sorted(model.lora):
    a, b, _ = model.lora[name]
    for t, key in ((a, "lora_A"), (b, "lora_B")):
        c = out["base_model.model.%s.%s.weight" % (name, key)]
        worst = max(worst, ((c - t.detach()).abs().max() / t.detach().abs().max()).item())
print(json.dumps({"adapter_max_rel": worst}))
)PY";

TEST(TrainReplay, MatchesAnIndependentPythonReplay) {
  if (ntks::testing::run_command("/usr/bin/python3 -c 'import torch' 2>/dev/null").status != 0)
    GTEST_SKIP() << "needs /usr/bin/python3 with torch (Debian's python3-torch)";
  ntks::testing::TempDir dir;
  const std::string model_dir = ntks::testing::tiny_checkpoint(dir, "model");
  model::LoraSpec spec;
  spec.r = 4;
  spec.alpha = 8;
  spec.dropout = 0;
  model::write_random_adapter(model_dir, dir.file("adapter"), spec, 5);

  std::mt19937_64 rng(3);
  std::vector<data::Sample> samples(11);  // steps of 4: each epoch ends with a step of 3
  std::string jsonl;
  for (auto& s : samples) {
    const size_t len = 3 + rng() % 12, prompt = 1 + rng() % (len - 1);
    for (size_t t = 0; t < len; ++t) {
      s.ids.push_back(static_cast<int32_t>(rng() % 50));
      s.response_mask.push_back(t >= prompt ? 1 : 0);
    }
    jsonl += nlohmann::json({{"ids", s.ids}, {"mask", s.response_mask}}).dump() + "\n";
  }
  dir.write("samples.jsonl", jsonl);

  train::TrainOptions o;
  o.epochs = 3;
  o.lr = 5e-3;
  o.warmup_ratio = 0.1;
  o.max_grad_norm = 0.5;  // engages on some steps
  o.batch_size = 2;
  o.grad_accum = 2;
  o.seed = 11;
  o.adamw.weight_decay = 0.01;
  dir.write("options.json", nlohmann::json({{"epochs", o.epochs},
                                            {"lr", o.lr},
                                            {"warmup_ratio", o.warmup_ratio},
                                            {"max_grad_norm", o.max_grad_norm},
                                            {"step_samples", o.batch_size * o.grad_accum},
                                            {"seed", o.seed},
                                            {"weight_decay", o.adamw.weight_decay}})
                                .dump());

  model::Decoder dec = model::Decoder::load(model_dir, at::kFloat, at::kCPU);
  model::load_adapter(dec, dir.file("adapter"));
  auto comm = dist::make_local();
  std::vector<train::StepLog> steps;
  train::train_lora(dec, samples, o, *comm, [&](const train::StepLog& s) { steps.push_back(s); });
  model::save_adapter(dec, dir.file("out"), model_dir);

  dir.write("replay.py", kReplay);
  const auto r = ntks::testing::run_command(fmt::format("/usr/bin/python3 {} {} {}/tests/reference 2>&1", dir.file("replay.py"),
                                                  dir.path().string(), NTKS_SOURCE_DIR));
  ASSERT_EQ(r.status, 0) << r.output;
  std::istringstream lines(r.output);
  std::vector<nlohmann::json> ref;
  for (std::string line; std::getline(lines, line);) ref.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(ref.size(), steps.size() + 1) << r.output;
  ASSERT_EQ(steps.size(), 9u);
  bool clipped = false;
  for (size_t i = 0; i < steps.size(); ++i) {
    EXPECT_NEAR(steps[i].lr, ref[i]["lr"].get<double>(), 1e-12) << "step " << i + 1;
    EXPECT_NEAR(steps[i].loss, ref[i]["loss"].get<double>(), 1e-5) << "step " << i + 1;
    EXPECT_NEAR(steps[i].grad_norm, ref[i]["grad_norm"].get<double>(), 1e-5) << "step " << i + 1;
    clipped = clipped || steps[i].grad_norm > o.max_grad_norm;
  }
  EXPECT_TRUE(clipped);
  EXPECT_LT(ref.back()["adapter_max_rel"].get<double>(), 1e-5);
}

}  // namespace
