// `ntk-select evaluate`: a held-out test set scored with the model and an
// adapter — the mean response-token loss and perplexity and, for lines that
// carry answer options, the accuracy by the options' log-likelihood.

#include <torch/torch.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "command.h"
#include "inputs.h"
#include "ntks/data/chat_template.h"
#include "ntks/data/choices.h"
#include "ntks/data/shared_samples.h"
#include "ntks/log/log.h"
#include "ntks/model/adapter.h"
#include "ntks/model/decoder.h"
#include "ntks/model/device.h"
#include "ntks/train/evaluate.h"
#include "ntks/train/finetune.h"
#include "ntks/util/error.h"
#include "ntks/util/files.h"

namespace ntks::cli {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

/// An option's value if given, else the config key's.
std::string option_or(const Context& ctx, const char* option, const std::string& key_value) {
  return ctx.args.count(option) ? ctx.args[option].as<std::string>() : key_value;
}

struct Inputs {
  std::string test;
  std::string adapter;  ///< empty: the base model
  std::string out;
  bool accuracy = false;
};

Inputs resolve(const Context& ctx) {
  const config::Config& cfg = ctx.cfg;
  Inputs in;
  in.test = option_or(ctx, "test", cfg.evaluate.test);
  if (in.test.empty()) throw ConfigError("no test set: name it with --test FILE or --set evaluate.test=FILE");
  if (!fs::is_regular_file(in.test)) throw InputError(fmt::format("{}: no such file (the test set)", in.test));
  in.adapter = option_or(ctx, "adapter", cfg.evaluate.adapter);
  const bool default_adapter = in.adapter.empty();
  if (default_adapter) in.adapter = train::finetune_out(cfg);
  if (in.adapter == "none") {
    in.adapter.clear();
  } else if (!fs::exists(fs::path(in.adapter) / "adapter_config.json")) {
    throw InputError(fmt::format("{}: no adapter here ({}; run `ntk-select finetune` first, or pass --adapter DIR or "
                                 "--adapter none for the base model)",
                                 in.adapter, default_adapter ? "finetune.out" : "--adapter / evaluate.adapter"));
  }
  in.out = option_or(ctx, "out", cfg.evaluate.out);
  if (in.out.empty()) in.out = (fs::path(cfg.run.dir) / "evaluate" / "result.json").string();
  in.accuracy = ctx.args.count("accuracy") > 0 || cfg.evaluate.accuracy;
  return in;
}

/// The multiple-choice part of the test set: the option samples of every
/// sample whose line carries options, in order, and per question the count
/// and the answer.
struct ChoiceSet {
  std::vector<data::Sample> options;
  std::vector<int64_t> counts, answers;
};

ChoiceSet read_choices(const config::Config& cfg, const data::CorpusIndex& index, const tokenizer::Tokenizer& tok,
                       const std::vector<data::Sample>& samples, bool required, int64_t vocab) {
  ChoiceSet set;
  const config::Template tmpl = data::resolve_template(cfg.model.chat_template, tok);
  for (const data::Sample& s : samples) {
    const std::string where = index.where(s.index);
    const std::string line = index.read(s.index);
    const std::optional<data::Choices> c = data::parse_choices(line, where);
    if (!c) {
      if (required)
        throw InputError(fmt::format("{}: no \"options\": accuracy was asked for (--accuracy / evaluate.accuracy), "
                                     "so every test line needs \"options\" (a list of answers) and \"answer\" (the "
                                     "index of the right one)",
                                     where));
      continue;
    }
    for (data::Sample& o : data::choice_samples(line, *c, cfg, tok, tmpl, s.index, where)) {
      for (int32_t id : o.ids)
        if (id < 0 || id >= vocab)
          throw InputError(fmt::format("{}: an option's token id {} is outside the model's vocabulary of {}", where,
                                       id, vocab));
      set.options.push_back(std::move(o));
    }
    set.counts.push_back(static_cast<int64_t>(c->options.size()));
    set.answers.push_back(c->answer);
  }
  return set;
}

/// Rank 0's choice set on every rank.
void share(ChoiceSet& set, dist::Communicator& comm) {
  std::string samples = comm.is_root() ? data::pack_samples(set.options) : std::string();
  std::string lists = comm.is_root() ? json{{"counts", set.counts}, {"answers", set.answers}}.dump() : std::string();
  comm.broadcast_bytes(samples, 0);
  comm.broadcast_bytes(lists, 0);
  if (comm.is_root()) return;
  set.options = data::unpack_samples(samples);
  const json j = json::parse(lists);
  set.counts = j.at("counts").get<std::vector<int64_t>>();
  set.answers = j.at("answers").get<std::vector<int64_t>>();
}

int evaluate_main(Context& ctx) {
  const config::Config& cfg = ctx.cfg;
  if (cfg.model.path.empty()) throw ConfigError("model.path is not set: evaluate scores the test set with that model");
  const Inputs in = resolve(ctx);
  const auto start = std::chrono::steady_clock::now();
  const at::Device device = model::choose_device(cfg.model.device, ctx.comm.local_rank());
  const at::ScalarType dtype = model::compute_dtype(cfg.model.dtype);
  model::require_matmul_support(dtype, device);
  model::Decoder decoder = model::Decoder::load(cfg.model.path, dtype, device);
  if (!in.adapter.empty()) model::load_adapter(decoder, in.adapter);

  ChoiceSet choices;
  data::SharedRead how;
  how.tokenizer = tokenizer_file(cfg);
  how.vocab = decoder.config().vocab_size;
  how.label = "test set";
  how.on_root = [&](const data::CorpusIndex& index, const tokenizer::Tokenizer& tok,
                    const std::vector<data::Sample>& samples) {
    choices = read_choices(cfg, index, tok, samples, in.accuracy, decoder.config().vocab_size);
  };
  data::ReadStats stats;
  const std::vector<data::Sample> samples = data::read_samples_shared({in.test}, cfg, how, ctx.comm, &stats);
  if (samples.empty()) throw InputError(fmt::format("{}: no test samples ({})", in.test, stats.summary()));
  share(choices, ctx.comm);

  const train::HeldOutLoss loss = train::held_out_loss(decoder, samples, cfg.evaluate.batch_size, ctx.comm);
  const bool scored = !choices.counts.empty();
  train::ChoiceResult acc;
  if (scored)
    acc = train::choice_accuracy(decoder, choices.options, choices.counts, choices.answers, cfg.evaluate.batch_size,
                                 ctx.comm);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!ctx.comm.is_root()) return 0;

  json result = {{"test", fs::absolute(in.test).string()},
                 {"adapter", in.adapter.empty() ? std::string("none") : fs::absolute(in.adapter).string()},
                 {"model", cfg.model.path},
                 {"samples", loss.samples},
                 {"tokens", loss.tokens},
                 {"loss", loss.loss},
                 {"perplexity", loss.perplexity},
                 {"mean_sample_loss", loss.mean_sample_loss},
                 {"records", stats.records},
                 {"skipped", stats.skipped},
                 {"dropped", stats.dropped},
                 {"truncated", stats.truncated},
                 {"ranks", ctx.comm.size()},
                 {"seconds", seconds}};
  std::string accuracy_text;
  if (scored) {
    result["accuracy"] = acc.accuracy;
    result["accuracy_sum"] = acc.accuracy_sum;
    result["options_samples"] = acc.questions;
    result["options"] = acc.options;
    result["accuracy_rule"] = "highest mean log-likelihood per response token; ties: lowest index";
    accuracy_text = fmt::format("; accuracy {:.1f}% of {} multiple-choice samples ({:.1f}% by summed log-likelihood)",
                                100 * acc.accuracy, acc.questions, 100 * acc.accuracy_sum);
  }
  const fs::path out(in.out);
  if (out.has_parent_path()) fs::create_directories(out.parent_path());
  write_file_atomic(in.out, result.dump(2) + "\n");
  std::cout << fmt::format("evaluate: {} samples of {} ({} response tokens) with {}: loss {:.4f}, perplexity {:.3f}, "
                           "mean sample loss {:.4f}{}; {}",
                           loss.samples, in.test, loss.tokens, in.adapter.empty() ? "the base model" : in.adapter,
                           loss.loss, loss.perplexity, loss.mean_sample_loss, accuracy_text, in.out)
            << std::endl;
  return 0;
}

}  // namespace

Command evaluate_command() {
  Command c;
  c.name = "evaluate";
  c.computes = true;
  c.summary = "score a held-out test set with the model (+ adapter): response-token loss, perplexity, accuracy";
  c.description =
      "Reads the test set (--test, or evaluate.test) as every stage reads data (data.*, the chat\n"
      "template, model.max_seq_len; bad lines per data.on_error) and scores it with the model at\n"
      "model.path and a PEFT adapter: --adapter DIR (or evaluate.adapter); by default finetune.out\n"
      "(RUN/finetune/adapter, what `ntk-select finetune` wrote); --adapter none for the base model.\n\n"
      "Loss: the negative log-likelihood of the response tokens (the assistant turns and their\n"
      "end-of-turn token), token-weighted over the test set (`loss`, and `perplexity` = exp(loss)),\n"
      "and the mean over samples of each sample's mean (`mean_sample_loss`).\n\n"
      "Accuracy: a line that carries \"options\" (a list of at least two answers) and \"answer\" (the\n"
      "index of the right one), as `ntk-select demo-data` writes into test.jsonl, is also scored as a\n"
      "multiple-choice question: each option in turn replaces the line's response (the same prompt\n"
      "and template) and is scored by its mean log-likelihood per response token; the question is\n"
      "right when the answer's option scores highest (ties: the lowest index). `accuracy` is the\n"
      "share right, `accuracy_sum` the same by summed log-likelihood (longer options lose there).\n"
      "--accuracy (or evaluate.accuracy) requires options on every line: an error names the first\n"
      "line without. Ranks share the samples (data parallel, one allreduce).\n\n"
      "Writes --out (or evaluate.out; default RUN/evaluate/result.json): {test, adapter, model,\n"
      "samples, tokens, loss, perplexity, mean_sample_loss, records, skipped, dropped, truncated,\n"
      "ranks, seconds} and, with options, {accuracy, accuracy_sum, options_samples, options}; prints\n"
      "one summary line on stdout.\n\n"
      "  ntk-select evaluate --config my.yaml --test demo-data/test.jsonl --adapter none --out base.json\n"
      "  ntk-select evaluate --config my.yaml --test demo-data/test.jsonl --accuracy   # RUN/finetune/adapter";
  c.options = [](po::options_description& o) {
    o.add_options()
        ("test", po::value<std::string>(), "JSONL test set (default: evaluate.test)")
        ("adapter", po::value<std::string>(),
         "PEFT adapter folder, or none for the base model (default: evaluate.adapter, else finetune.out)")
        ("out", po::value<std::string>(), "JSON result file (default: evaluate.out, else RUN/evaluate/result.json)")
        ("accuracy", "require answer options on every test line (they are scored wherever present)");
  };
  c.run = evaluate_main;
  return c;
}

}  // namespace ntks::cli
