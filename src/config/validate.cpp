// Range and consistency checks on a loaded config. Each message names the
// key, its value and the allowed range.

#include <algorithm>
#include <cmath>
#include <set>

#include "ntks/config/load.h"
#include "ntks/util/error.h"
#include "values.h"

namespace ntks::config {
namespace {

const std::vector<std::string> kLoraModules = {"q_proj", "k_proj", "v_proj", "o_proj",
                                               "gate_proj", "up_proj", "down_proj"};

template <class T>
void require(bool ok, const char* key, const T& value, const std::string& rule) {
  if (!ok) throw ConfigError(fmt::format("config key '{}' = {}: {}", key, values::format(value), rule));
}

void at_least(const char* key, std::int64_t v, std::int64_t min) {
  require(v >= min, key, v, fmt::format("must be at least {}", min));
}

void non_negative(const char* key, double v) { require(v >= 0, key, v, "must be >= 0"); }

}  // namespace

std::int64_t preselect_size(const Config& cfg) {
  if (cfg.preselect.size > 0) return cfg.preselect.size;
  return static_cast<std::int64_t>(std::ceil(cfg.preselect.multiple * static_cast<double>(cfg.select.size)));
}

void validate(const Config& c) {
  require(!c.run.dir.empty(), "run.dir", c.run.dir, "must name a directory");
  at_least("model.max_seq_len", c.model.max_seq_len, 2);

  at_least("lora.r", c.lora.r, 1);
  require(c.lora.alpha > 0, "lora.alpha", c.lora.alpha, "must be > 0");
  require(c.lora.dropout >= 0 && c.lora.dropout < 1, "lora.dropout", c.lora.dropout, "must be in [0, 1)");
  require(!c.lora.targets.empty(), "lora.targets", c.lora.targets, "needs at least one module");
  std::set<std::string> seen;
  for (const auto& t : c.lora.targets) {
    require(std::find(kLoraModules.begin(), kLoraModules.end(), t) != kLoraModules.end(), "lora.targets",
            c.lora.targets, fmt::format("'{}' is not a projection of a Llama/Qwen3 layer ({})", t,
                                        values::format(kLoraModules)));
    require(seen.insert(t).second, "lora.targets", c.lora.targets, fmt::format("'{}' is listed twice", t));
  }

  at_least("warmup.epochs", c.warmup.epochs, 0);
  require(c.warmup.lr > 0, "warmup.lr", c.warmup.lr, "must be > 0");
  require(c.warmup.warmup_ratio >= 0 && c.warmup.warmup_ratio <= 1, "warmup.warmup_ratio",
          c.warmup.warmup_ratio, "must be in [0, 1]");
  non_negative("warmup.weight_decay", c.warmup.weight_decay);
  non_negative("warmup.max_grad_norm", c.warmup.max_grad_norm);
  at_least("warmup.batch_size", c.warmup.batch_size, 1);
  at_least("warmup.grad_accum", c.warmup.grad_accum, 1);

  const PretrainConfig& p = c.pretrain;
  require(!p.text_field.empty(), "pretrain.text_field", p.text_field, "must name a field");
  at_least("pretrain.seq_len", p.seq_len, 2);
  at_least("pretrain.epochs", p.epochs, 1);
  at_least("pretrain.max_steps", p.max_steps, 0);
  require(p.lr > 0, "pretrain.lr", p.lr, "must be > 0");
  require(p.warmup_ratio >= 0 && p.warmup_ratio <= 1, "pretrain.warmup_ratio", p.warmup_ratio, "must be in [0, 1]");
  non_negative("pretrain.weight_decay", p.weight_decay);
  require(p.beta2 > 0 && p.beta2 < 1, "pretrain.beta2", p.beta2, "must be in (0, 1)");
  non_negative("pretrain.max_grad_norm", p.max_grad_norm);
  at_least("pretrain.batch_size", p.batch_size, 1);
  at_least("pretrain.grad_accum", p.grad_accum, 1);
  require(p.eval_share >= 0 && p.eval_share < 1, "pretrain.eval_share", p.eval_share, "must be in [0, 1)");
  at_least("pretrain.eval_sequences", p.eval_sequences, 0);
  at_least("pretrain.eval_every", p.eval_every, 0);
  at_least("pretrain.checkpoint_every", p.checkpoint_every, 0);

  const FinetuneConfig& f = c.finetune;
  at_least("finetune.epochs", f.epochs, 1);
  at_least("finetune.max_steps", f.max_steps, 0);
  require(f.lr > 0, "finetune.lr", f.lr, "must be > 0");
  require(f.warmup_ratio >= 0 && f.warmup_ratio <= 1, "finetune.warmup_ratio", f.warmup_ratio, "must be in [0, 1]");
  non_negative("finetune.weight_decay", f.weight_decay);
  non_negative("finetune.max_grad_norm", f.max_grad_norm);
  at_least("finetune.batch_size", f.batch_size, 1);
  at_least("finetune.grad_accum", f.grad_accum, 1);
  at_least("finetune.checkpoint_every", f.checkpoint_every, 0);
  at_least("finetune.seed", f.seed, 0);
  at_least("evaluate.batch_size", c.evaluate.batch_size, 1);

  at_least("embed.batch_tokens", c.embed.batch_tokens, 0);

  at_least("preselect.k", c.preselect.k, 1);
  at_least("preselect.size", c.preselect.size, 0);
  require(c.preselect.multiple >= 1, "preselect.multiple", c.preselect.multiple,
          "must be >= 1 (the pre-selected set must hold select.size samples)");
  at_least("preselect.nlist", c.preselect.nlist, 0);
  at_least("preselect.nprobe", c.preselect.nprobe, 1);
  at_least("preselect.recall_sample", c.preselect.recall_sample, 0);

  at_least("grads.dim", c.grads.dim, 0);
  at_least("grads.sparsity", c.grads.sparsity, 1);
  require(c.grads.projection != Projection::sparse || c.grads.dim == 0 || c.grads.dim % c.grads.sparsity == 0,
          "grads.sparsity", c.grads.sparsity, fmt::format("must divide grads.dim ({})", c.grads.dim));
  require(c.grads.scale != 0, "grads.scale", c.grads.scale, "must not be 0");
  at_least("grads.batch_size", c.grads.batch_size, 1);

  require(c.score.shrink > 0, "score.shrink", c.score.shrink, "must be > 0 (the covariance is singular below rows = dim)");

  at_least("select.size", c.select.size, 1);
  at_least("less.warmup_samples", c.less.warmup_samples, 1);
  at_least("dsir.buckets", c.dsir.buckets, 1);
  require(c.dsir.buckets <= (std::int64_t{1} << 32), "dsir.buckets", c.dsir.buckets, "must be at most 2^32");
  at_least("dsir.ngram", c.dsir.ngram, 1);
  non_negative("dsir.smoothing", c.dsir.smoothing);
  at_least("dsir.min_words", c.dsir.min_words, 0);
  require(c.tsds.alpha >= 0 && c.tsds.alpha <= 1, "tsds.alpha", c.tsds.alpha, "must be in [0, 1]");
  require(c.tsds.c > 0, "tsds.c", c.tsds.c, "must be > 0");
  non_negative("tsds.sigma", c.tsds.sigma);
  at_least("tsds.max_k", c.tsds.max_k, 1);
  at_least("tsds.kde_k", c.tsds.kde_k, 1);
  if (c.preselect.size > 0)
    require(c.preselect.size >= c.select.size, "preselect.size", c.preselect.size,
            fmt::format("must be >= select.size ({})", c.select.size));

  at_least("store.block_rows", c.store.block_rows, 1);
  at_least("store.group_rows", c.store.group_rows, 0);
  if (c.store.group_rows > 0)
    require(c.store.block_rows % c.store.group_rows == 0, "store.group_rows", c.store.group_rows,
            fmt::format("must divide store.block_rows ({}), or be 0 (auto)", c.store.block_rows));
}

}  // namespace ntks::config
