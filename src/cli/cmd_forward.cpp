// `ntk-select forward`: run a checkpoint (optionally with an adapter) on
// token ids and write hidden states, embeddings and logits, to check that a
// checkpoint loads and behaves (and for the parity tests).

#include <torch/torch.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "command.h"
#include "inputs.h"
#include "ntks/config/enums.h"
#include "ntks/log/log.h"
#include "ntks/log/progress.h"
#include "ntks/model/adapter.h"
#include "ntks/model/decoder.h"
#include "ntks/model/device.h"
#include "ntks/store/array_file.h"
#include "ntks/util/error.h"

namespace ntks::cli {
namespace {

std::vector<std::vector<int64_t>> read_ids(const std::string& path, int64_t vocab) {
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("{}: cannot be read", path));
  std::vector<std::vector<int64_t>> out;
  std::string line;
  for (int64_t n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw InputError(fmt::format("{}:{}: not valid JSON ({})", path, n, e.what()));
    }
    if (!j.is_object() || !j.contains("ids") || !j["ids"].is_array())
      throw InputError(fmt::format("{}:{}: expected {{\"ids\": [token ids]}}", path, n));
    std::vector<int64_t> ids;
    for (const auto& v : j["ids"]) {
      if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() >= vocab)
        throw InputError(fmt::format("{}:{}: token id {} is not in [0, {})", path, n, v.dump(), vocab));
      ids.push_back(v.get<int64_t>());
    }
    if (ids.empty()) throw InputError(fmt::format("{}:{}: a sample needs at least one token", path, n));
    out.push_back(std::move(ids));
  }
  return out;
}

int forward_main(Context& ctx) {
  const auto& a = ctx.args;
  if (!ctx.comm.is_root()) return 0;  // a diagnostic tool: one process does it
  config::DType dt = ctx.cfg.model.dtype;
  if (a.count("dtype")) dt = dtype_option("dtype", a["dtype"].as<std::string>());
  const std::string padding = a["padding"].as<std::string>();
  if (padding != "left" && padding != "right") throw UsageError("--padding must be left or right");
  const int64_t batch = a["batch-size"].as<int64_t>();
  if (batch < 1) throw UsageError("--batch-size must be at least 1");

  at::Device device = model::choose_device(ctx.cfg.model.device, ctx.comm.local_rank());
  model::Decoder dec = model::Decoder::load(a["model"].as<std::string>(), model::compute_dtype(dt), device);
  if (a.count("adapter")) model::load_adapter(dec, a["adapter"].as<std::string>());
  const auto samples = read_ids(a["input"].as<std::string>(), dec.config().vocab_size);
  const bool want_logits = a.count("logits") > 0;

  const int64_t n = static_cast<int64_t>(samples.size()), H = dec.config().hidden_size, V = dec.config().vocab_size;
  int64_t max_len = 0;
  for (const auto& s : samples) max_len = std::max<int64_t>(max_len, static_cast<int64_t>(s.size()));
  at::Tensor emb = torch::zeros({n, H});
  at::Tensor last = torch::zeros({n, max_len, H});
  at::Tensor logits = want_logits ? torch::zeros({n, max_len, V}) : at::Tensor();
  at::Tensor lengths = torch::zeros({n}, torch::kLong);

  torch::NoGradGuard no_grad;
  log::Progress progress("forward", n);
  for (int64_t b0 = 0; b0 < n; b0 += batch) {
    const int64_t bn = std::min(batch, n - b0);
    int64_t T = 0;
    for (int64_t i = 0; i < bn; ++i) T = std::max<int64_t>(T, static_cast<int64_t>(samples[b0 + i].size()));
    at::Tensor ids = torch::zeros({bn, T}, torch::kLong), mask = torch::zeros({bn, T}, torch::kLong);
    for (int64_t i = 0; i < bn; ++i) {
      const auto& s = samples[b0 + i];
      const int64_t L = static_cast<int64_t>(s.size()), off = padding == "left" ? T - L : 0;
      ids[i].narrow(0, off, L).copy_(torch::tensor(s, torch::kLong));
      mask[i].narrow(0, off, L).fill_(1);
    }
    at::Tensor h = dec.hidden_states(ids, mask);
    at::Tensor lg = want_logits ? dec.logits(h).to(at::kCPU, at::kFloat) : at::Tensor();
    at::Tensor hf = h.to(at::kCPU, at::kFloat);
    for (int64_t i = 0; i < bn; ++i) {
      const int64_t L = static_cast<int64_t>(samples[b0 + i].size()), off = padding == "left" ? T - L : 0;
      at::Tensor rows = hf[i].narrow(0, off, L);
      last[b0 + i].narrow(0, 0, L).copy_(rows);
      emb[b0 + i].copy_(rows.mean(0));
      lengths[b0 + i] = L;
      if (want_logits) logits[b0 + i].narrow(0, 0, L).copy_(lg[i].narrow(0, off, L));
    }
    progress.advance(bn);
  }
  progress.finish();

  const std::string out = a["out"].as<std::string>();
  store::ArrayFileWriter w(out);
  w.add("embeddings", {n, H}, emb.data_ptr<float>());
  w.add("last_hidden", {n, max_len, H}, last.data_ptr<float>());
  w.add("lengths", {n}, lengths.data_ptr<int64_t>());
  if (want_logits) w.add("logits", {n, max_len, V}, logits.data_ptr<float>());
  w.finalize();
  log::info("wrote {} ({} samples, hidden {}, {} on {})", out, n, H, config::to_string(dt), device.str());
  return 0;
}

}  // namespace

Command forward_command() {
  Command c;
  c.name = "forward";
  c.computes = true;
  c.summary = "run a checkpoint (and adapter) on token ids; write hidden states, embeddings, logits";
  c.description =
      "Input: JSONL lines {\"ids\": [token ids]}. Output HDF5 datasets: embeddings [n, hidden]\n"
      "(mean of the final hidden state over the sample's tokens), last_hidden [n, max_len, hidden]\n"
      "(zero-padded, row 0 = first token), lengths [n], and with --logits logits [n, max_len, vocab],\n"
      "all float32. Use it to check that a checkpoint loads and behaves. The compute dtype and\n"
      "device come from model.dtype / model.device unless given here.";
  c.options = [](po::options_description& o) {
    o.add_options()
        ("model", po::value<std::string>()->required(), "Hugging Face model folder")
        ("adapter", po::value<std::string>(), "PEFT LoRA adapter folder to apply")
        ("input", po::value<std::string>()->required(), "JSONL file of {\"ids\": [...]} lines")
        ("out", po::value<std::string>()->required(), "output HDF5 file")
        ("logits", "also write logits [n, max_len, vocab]")
        ("dtype", po::value<std::string>(), "compute dtype: bf16, fp16 or fp32 (default: model.dtype)")
        ("padding", po::value<std::string>()->default_value("right"), "pad batches on the left or right")
        ("batch-size", po::value<int64_t>()->default_value(8), "samples per forward batch");
  };
  c.run = forward_main;
  return c;
}

}  // namespace ntks::cli
