// The pretraining job (pretrain.h): inputs checked, resumed or started,
// trained by the shared loop, evaluated, and handed over as a model folder.

#include "ntks/train/pretrain.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "ntks/config/enums.h"
#include "ntks/log/log.h"
#include "ntks/model/device.h"
#include "ntks/model/save_model.h"
#include "ntks/tokenizer/tokenizer.h"
#include "ntks/train/checkpoint.h"
#include "ntks/train/identity.h"
#include "ntks/train/packing.h"
#include "ntks/train/trainer.h"
#include "ntks/util/error.h"
#include "ntks/util/files.h"
#include "train/resumable_run.h"
#include "train/train_logs.h"

namespace ntks::train {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kPretrainSummary = "pretrain.json";

void check_inputs(const config::Config& cfg, const model::HfConfig& mc, const tokenizer::Tokenizer& tok) {
  const std::string init = (fs::path(cfg.model.path) / "config.json").string();
  if (tok.vocab_size() > mc.vocab_size)
    throw InputError(fmt::format("the model does not fit the tokenizer: {} has {} token ids but {} has vocab_size {}; "
                                 "make the model with --vocab {} or more (make-model --tokenizer {} does that)",
                                 tokenizer_path(cfg), tok.vocab_size(), init, mc.vocab_size, tok.vocab_size(),
                                 tokenizer_path(cfg)));
  if (cfg.pretrain.seq_len > mc.max_position_embeddings)
    throw ConfigError(fmt::format("pretrain.seq_len {} exceeds max_position_embeddings {} of {}", cfg.pretrain.seq_len,
                                  mc.max_position_embeddings, init));
  if (mc.vocab_size > 2 * tok.vocab_size() + 256)
    log::warn0("{} has vocab_size {} for a tokenizer of {} ids: the extra embedding rows are never trained",
               init, mc.vocab_size, tok.vocab_size());
}

TrainOptions pretrain_options(const config::Config& cfg) {
  TrainOptions o = TrainOptions::from_section(cfg.pretrain, cfg.run.seed);
  o.name = "pretrain";
  o.section = "pretrain";
  o.max_steps = cfg.pretrain.max_steps;
  o.adamw.beta2 = cfg.pretrain.beta2;
  o.progress_unit = "tokens";
  return o;
}

json held_out_json(int64_t step, int64_t tokens_seen, const HeldOutLoss& h) {
  return {{"step", step}, {"tokens_seen", tokens_seen}, {"loss", h.loss}, {"perplexity", h.perplexity},
          {"tokens", h.tokens}};
}

void write_pretrain_curve(const fs::path& run_dir) {
  detail::LossCurve c;
  c.title = "pretraining: next-token loss";
  detail::write_loss_curve((run_dir / "train_log.jsonl").string(), (run_dir / "eval_log.jsonl").string(),
                           (run_dir / "loss_curve.svg").string(), c);
}

/// Copies the tokenizer files into the model folder, so that it is complete.
void copy_tokenizer(const std::string& tokenizer_file, const fs::path& out) {
  fs::copy_file(tokenizer_file, out / "tokenizer.json", fs::copy_options::overwrite_existing);
  const fs::path cfg = fs::path(tokenizer_file).parent_path() / "tokenizer_config.json";
  if (fs::exists(cfg)) fs::copy_file(cfg, out / "tokenizer_config.json", fs::copy_options::overwrite_existing);
}

}  // namespace

PretrainOutcome pretrain(const config::Config& cfg, dist::Communicator& comm, const PretrainRequest& request) {
  const config::PretrainConfig& p = cfg.pretrain;
  if (cfg.model.path.empty())
    throw ConfigError("model.path is not set: pretrain starts from the random checkpoint there (ntk-select make-model "
                      "--pretrain-init)");
  if (p.corpus.empty()) throw ConfigError("pretrain.corpus is empty: name the JSONL files of documents to train on");
  for (const std::string& f : p.corpus)
    if (!fs::is_regular_file(f)) throw InputError(fmt::format("{}: no such file (pretrain.corpus)", f));
  PretrainOutcome outcome;
  const fs::path run_dir = fs::path(cfg.run.dir) / "pretrain";
  const fs::path out = p.out.empty() ? run_dir / "model" : fs::path(p.out);
  const fs::path ckpt_root = run_dir / "checkpoints";
  outcome.out = out.string();
  outcome.run_dir = run_dir.string();

  // Rank 0 decides (files), every rank follows.
  std::string plan;  // "skip", "fresh" or the checkpoint folder to resume from
  if (comm.is_root()) {
    const std::string identity = pretrain_identity(cfg);
    if (!request.force && !request.restart &&
        detail::finished_identity((out / kPretrainSummary).string(), (out / "model.safetensors").string()) ==
            json::parse(identity).dump()) {
      plan = "skip";
    } else {
      // Training starts or continues: a model folder of another identity, or
      // the one --force retrains, must not outlive a run stopped half-way.
      fs::remove_all(out);
      if (request.restart || request.force) fs::remove_all(ckpt_root);
      const std::optional<Checkpoint> latest =
          detail::resume_point(ckpt_root.string(), identity, "pretraining", "pretrain.corpus");
      plan = latest ? latest->folder : "fresh";
      if (!latest) {
        fs::remove(run_dir / "train_log.jsonl");
        fs::remove(run_dir / "eval_log.jsonl");
      }
      fs::create_directories(ckpt_root);
    }
  }
  comm.broadcast_bytes(plan, 0);
  if (plan == "skip") {
    outcome.skipped = true;
    return outcome;
  }

  const std::string tok_file = tokenizer_path(cfg);
  const tokenizer::Tokenizer tok = tokenizer::Tokenizer::load(tok_file);
  const model::HfConfig init_cfg = model::load_hf_config((fs::path(cfg.model.path) / "config.json").string());
  check_inputs(cfg, init_cfg, tok);
  const bool resuming = plan != "fresh";
  const at::Device device = model::choose_device(cfg.model.device, comm.local_rank());
  const at::ScalarType dtype = model::compute_dtype(cfg.model.dtype);
  model::Decoder decoder = model::Decoder::load(resuming ? plan : cfg.model.path, dtype, device);
  if (resuming && decoder.config().vocab_size != init_cfg.vocab_size)
    throw InputError(fmt::format("{}: the checkpoint's shape differs from {}", plan, cfg.model.path));
  decoder.own_weights();

  PackOptions po;
  po.text_field = p.text_field;
  po.seq_len = p.seq_len;
  po.eval_share = p.eval_share;
  po.eval_sequences = p.eval_sequences;
  po.threads = request.threads;
  const PackedCorpus corpus = pack_corpus(p.corpus, tok, tok_file, po);
  outcome.train_sequences = static_cast<int64_t>(corpus.train.size());
  outcome.eval_sequences = static_cast<int64_t>(corpus.eval.size());
  log::info0("corpus: {} documents ({} held out), {:.1f} MB of text; {} training sequences and {} held-out sequences "
             "of {} tokens ({} tokens dropped at the streams' ends or past pretrain.eval_sequences)",
             corpus.documents, corpus.eval_documents, static_cast<double>(corpus.bytes) / 1e6, corpus.train.size(),
             corpus.eval.size(), p.seq_len, corpus.dropped_tokens);

  ParameterSet set;
  std::vector<std::string> names;
  for (const auto& [entry, t] : decoder.named_weights()) {
    set.tensors.push_back(t);
    set.decay.push_back(!entry.is_norm() && entry.slot != model::WeightSlot::proj_bias);
    names.push_back(entry.name);
    outcome.parameters += t.numel();
  }
  log::info0("model: {} ({} layers, hidden {}, {} heads / {} kv, vocabulary {}), {:.2f}M parameters, {} on {}",
             decoder.config().architecture, decoder.config().num_layers, decoder.config().hidden_size,
             decoder.config().num_heads, decoder.config().num_kv_heads, decoder.config().vocab_size,
             static_cast<double>(outcome.parameters) / 1e6, config::to_string(cfg.model.dtype), device.str());

  const std::optional<ResumeState> resume = detail::resume_state(ckpt_root.string(), plan, names, set.tensors);
  const int64_t start_step = resume ? resume->steps_done : 0;
  const std::string identity = comm.is_root() ? pretrain_identity(cfg) : std::string();
  std::optional<detail::StepLogFile> train_log, eval_log;
  if (comm.is_root()) {
    train_log.emplace((run_dir / "train_log.jsonl").string(), start_step);
    eval_log.emplace((run_dir / "eval_log.jsonl").string(), start_step);
  }
  int64_t tokens_seen = train_log ? train_log->last().value("tokens_seen", int64_t{0}) : 0;
  const TrainOptions options = pretrain_options(cfg);
  const int64_t eval_batch = std::max<int64_t>(1, p.batch_size);
  int64_t total_steps = 0;
  double last_loss = 0;
  int64_t last_eval_step = -1;
  HeldOutLoss last_eval;

  auto evaluate = [&](int64_t step) {
    const HeldOutLoss h = held_out_loss(decoder, corpus.eval, eval_batch, comm);
    last_eval_step = step;
    last_eval = h;
    if (corpus.eval.empty()) return h;
    log::info0("held-out after step {}: loss {:.4f}, perplexity {:.2f} ({} tokens)", step, h.loss, h.perplexity,
               h.tokens);
    if (eval_log) eval_log->append(held_out_json(step, tokens_seen, h));
    return h;
  };
  auto checkpoint = [&](int64_t steps_done, const AdamW& opt) {
    detail::write_checkpoint(comm, ckpt_root.string(), decoder, names, opt, {steps_done, total_steps, identity, last_loss},
                             CheckpointWeights::model, [&] { write_pretrain_curve(run_dir); });
  };

  if (!resuming) outcome.initial = evaluate(0);
  TrainHooks hooks;
  hooks.on_step = [&](const StepLog& s) {
    tokens_seen += s.tokens;
    last_loss = s.loss;
    if (train_log) train_log->append(detail::step_line(s, tokens_seen));
  };
  hooks.after_step = [&](int64_t steps_done, const AdamW& opt) {
    if (p.eval_every > 0 && steps_done % p.eval_every == 0) evaluate(steps_done);
    if (detail::checkpoint_due(steps_done, p.checkpoint_every, total_steps)) checkpoint(steps_done, opt);
    test_kill_point(steps_done);
  };
  hooks.on_stop = checkpoint;
  total_steps = schedule_steps(static_cast<int64_t>(corpus.train.size()), options);  // the hooks need it
  const TrainResult r = train(decoder, set, corpus.train, options, comm, hooks, resume ? &*resume : nullptr);
  outcome.steps = r.steps;
  outcome.total_steps = r.total_steps;
  outcome.resumed_from = r.resumed_from;
  outcome.tokens = r.tokens;
  outcome.seconds = r.seconds;
  outcome.first_loss = r.first_loss;
  outcome.last_loss = r.last_loss;
  outcome.final = last_eval_step == r.steps ? last_eval : evaluate(r.steps);

  if (comm.is_root()) {
    const fs::path work = out.string() + ".partial";
    fs::remove_all(work);
    fs::create_directories(work);
    model::save_model(decoder, work.string(), at::kFloat, {{"format", "pt"}, {"ntks", "pretrain"}});
    copy_tokenizer(tok_file, work);
    const json summary = {
        {"identity", json::parse(identity)},
        {"parameters", outcome.parameters},
        {"steps", r.steps},
        {"epochs", p.epochs},
        {"tokens_seen", tokens_seen},
        {"train_sequences", outcome.train_sequences},
        {"eval_sequences", outcome.eval_sequences},
        {"seq_len", p.seq_len},
        {"documents", corpus.documents},
        {"held_out_documents", corpus.eval_documents},
        {"final_train_loss", r.last_loss},
        {"held_out_loss", outcome.final.loss},
        {"held_out_perplexity", outcome.final.perplexity},
        {"held_out_tokens", outcome.final.tokens},
        {"ranks", comm.size()},
        {"seconds_this_run", r.seconds},
        {"resumed_from_step", r.resumed_from}};
    write_file_atomic((work / kPretrainSummary).string(), summary.dump(2) + "\n");
    fs::remove_all(out);
    if (out.has_parent_path()) fs::create_directories(out.parent_path());
    fs::rename(work, out);
    write_pretrain_curve(run_dir);
    fs::remove_all(ckpt_root);  // the model is the result; checkpoints only served resuming
  }
  comm.barrier();
  return outcome;
}

}  // namespace ntks::train
