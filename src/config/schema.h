#pragma once
// The one description of the config's YAML keys. Each visit() lists a
// struct's keys with their help text; the loader, the --set handler, the dump,
// the key list and the hash are visitors over it, so a key added here is
// known to all of them at once.
//
// A visitor provides:
//   void field(const char* key, T& value, const char* doc);   // scalars, lists, enums
//   template <class S> void group(const char* key, S& s, const char* doc);  // nested map

#include "ntks/config/config.h"
#include "ntks/config/enums.h"

namespace ntks::config::schema {

template <class V>
void visit(V& v, RunConfig& c) {
  v.field("dir", c.dir, "run directory: outputs and manifests of every stage");
  v.field("seed", c.seed, "seed of LoRA init, dropout, data order and the mixture shuffle");
}

template <class V>
void visit(V& v, ModelConfig& c) {
  v.field("path", c.path, "Hugging Face model folder (config.json, *.safetensors)");
  v.field("tokenizer", c.tokenizer, "tokenizer.json; empty: <model.path>/tokenizer.json");
  v.field("dtype", c.dtype, "compute dtype of the frozen weights");
  v.field("device", c.device, "auto: CUDA when built with it and a GPU is visible");
  v.field("template", c.chat_template, "chat template; auto: from the model's config.json");
  v.field("max_seq_len", c.max_seq_len, "tokens per sample (paper: 3072)");
}

template <class V>
void visit(V& v, LoraConfig& c) {
  v.field("r", c.r, "LoRA rank (paper: 32)");
  v.field("alpha", c.alpha, "LoRA alpha; the update is (alpha/r)*B*A (paper: 16)");
  v.field("dropout", c.dropout, "dropout on the LoRA input, training only (paper: 0.05)");
  v.field("targets", c.targets, "module names that get adapters (paper: all seven projections)");
}

template <class V>
void visit(V& v, DataFields& c) {
  v.field("id", c.id, "record id field; absent: file:line");
  v.field("instruction", c.instruction, "alpaca instruction field");
  v.field("input", c.input, "alpaca input field (optional in a record)");
  v.field("output", c.output, "alpaca output field");
  v.field("messages", c.messages, "chat messages field: [{role, content}, ...]");
  v.field("prompt", c.prompt, "prompt field of prompt/response records");
  v.field("response", c.response, "response field of prompt/response records");
  v.field("system", c.system, "optional system prompt field");
}

template <class V>
void visit(V& v, DataConfig& c) {
  v.field("domain", c.domain, "JSONL file of the domain samples (~1K)");
  v.field("candidates", c.candidates, "JSONL files of the candidate corpus, read as one index");
  v.field("format", c.format, "record layout; auto: detected per record");
  v.group("fields", c.fields, "field names of the input records");
  v.field("on_error", c.on_error, "bad record: fail names file:line; skip logs it to RUN/skipped.jsonl");
  v.field("overlong", c.overlong, "samples over model.max_seq_len: truncate or drop (counted)");
}

template <class V>
void visit(V& v, WarmupConfig& c) {
  v.field("epochs", c.epochs, "passes over the domain set (paper: 3)");
  v.field("lr", c.lr, "AdamW learning rate (paper: 5e-4)");
  v.field("schedule", c.schedule, "learning-rate schedule after warm-up (paper: cosine)");
  v.field("warmup_ratio", c.warmup_ratio, "share of steps with linear warm-up (paper: 0.03)");
  v.field("weight_decay", c.weight_decay, "AdamW weight decay (paper: 0)");
  v.field("max_grad_norm", c.max_grad_norm, "gradient clipping norm; 0 disables");
  v.field("batch_size", c.batch_size, "samples per micro-batch at most; a step uses batch_size x grad_accum samples over all ranks (paper: 8)");
  v.field("grad_accum", c.grad_accum, "micro-batches per optimizer step (paper: 8)");
}

template <class V>
void visit(V& v, PretrainConfig& c) {
  v.field("corpus", c.corpus, "JSONL files of documents (one per line; `ntk-select pretrain-data` writes one)");
  v.field("text_field", c.text_field, "the documents' text field");
  v.field("out", c.out, "trained model folder (Hugging Face format); empty: RUN/pretrain/model");
  v.field("seq_len", c.seq_len, "tokens per packed sequence; documents are joined by the end-of-text token");
  v.field("epochs", c.epochs, "passes over the training sequences");
  v.field("max_steps", c.max_steps, "stop after this many optimizer steps (the schedule's length); 0: all epochs");
  v.field("lr", c.lr, "peak AdamW learning rate");
  v.field("schedule", c.schedule, "learning-rate schedule after the linear warm-up");
  v.field("warmup_ratio", c.warmup_ratio, "share of steps with linear warm-up");
  v.field("weight_decay", c.weight_decay, "AdamW weight decay on matrices and embeddings (not on norms and biases)");
  v.field("beta2", c.beta2, "AdamW second-moment decay");
  v.field("max_grad_norm", c.max_grad_norm, "gradient clipping norm; 0 disables");
  v.field("batch_size", c.batch_size, "sequences per micro-batch at most");
  v.field("grad_accum", c.grad_accum, "micro-batches per step; a step uses batch_size x grad_accum sequences over all ranks");
  v.field("eval_share", c.eval_share, "share of documents held out (chosen by content hash) for the held-out loss");
  v.field("eval_sequences", c.eval_sequences, "held-out sequences evaluated, at most");
  v.field("eval_every", c.eval_every, "steps between held-out evaluations; 0: only at the end");
  v.field("checkpoint_every", c.checkpoint_every, "steps between checkpoints for resuming after a kill; 0: only on SIGTERM");
}

template <class V>
void visit(V& v, EmbedConfig& c) {
  v.field("batch_tokens", c.batch_tokens,
          "padded tokens per forward batch; 0: auto, 4096 on CPUs (larger batches leave the caches: 1.4x "
          "slower at 16384), 16384 on GPUs");
}

template <class V>
void visit(V& v, PreselectConfig& c) {
  v.field("k", c.k, "nearest candidates per domain sample");
  v.field("size", c.size, "pre-selected candidates m; 0: multiple * select.size");
  v.field("multiple", c.multiple, "m as a multiple of select.size (paper: 4; 4 to 16 advised)");
  v.field("index", c.index, "flat: exact search; ivf: approximate, for very large corpora");
  v.field("nlist", c.nlist, "IVF lists; 0: 4*sqrt(number of candidates)");
  v.field("nprobe", c.nprobe, "IVF lists searched per query");
  v.field("recall_sample", c.recall_sample,
          "IVF: a seeded sample of this many domain points is also searched exactly, and the share of their exact "
          "k nearest that IVF found (recall@k) is logged and kept in the pre-selection's metadata; 0: not measured");
  v.field("gpu", c.gpu, "use the Faiss GPU index (build with NTKS_WITH_FAISS_GPU)");
}

template <class V>
void visit(V& v, GradsConfig& c) {
  v.field("output", c.output, "f(x): logit_sum (Jacobian-free) or log_likelihood of the response");
  v.field("dim", c.dim, "projection dimension d (paper: 8192); 0 stores the raw gradient");
  v.field("seed", c.seed, "seed of the projection matrix");
  v.field("projection", c.projection, "rademacher: the paper's dense +-1 matrix; sparse: a sparse JL transform "
                                      "(grads.sparsity nonzeros per gradient coordinate), the same kernel in "
                                      "expectation for a fraction of the cost (beyond the paper)");
  v.field("sparsity", c.sparsity, "sparse: nonzeros per gradient coordinate, a divisor of grads.dim");
  v.field("scale", c.scale, "factor applied to every gradient, for numerical range");
  v.field("batch_size", c.batch_size, "samples per per-sample-gradient batch");
}

template <class V>
void visit(V& v, ScoreConfig& c) {
  v.field("rule", c.rule, "ntk: the paper's <g(c), domain mean g>; lda: the whitened domain-vs-candidates "
                          "discriminant (beyond the paper; see docs/architecture.md)");
  v.field("shrink", c.shrink, "lda: ridge lambda = shrink x the mean eigenvalue of the gradient covariance");
}

template <class V>
void visit(V& v, SelectConfig& c) {
  v.field("size", c.size, "selected candidates M (paper: 9000)");
  v.field("method", c.method, "ntk: NTK-Selector; baselines through the same stages: knn (the pre-selection's M "
                              "most relevant), random (M drawn with run.seed from the whole corpus, no model), less (LESS: see less.*), "
                              "dsir (DSIR: dsir.*, no model), tsds (TSDS on the embeddings: tsds.*)");
}

template <class V>
void visit(V& v, LessConfig& c) {
  v.field("warmup_samples", c.warmup_samples, "candidates the LESS warm-up trains on, drawn with run.seed (paper: 2000)");
  v.field("reduce", c.reduce, "a candidate's cosines to the domain samples reduced by max (LESS) or mean");
}

template <class V>
void visit(V& v, FinetuneConfig& c) {
  v.field("data", c.data, "JSONL training set; empty: RUN/select/mixture.jsonl, checked against RUN/select/report.json");
  v.field("out", c.out, "adapter folder (PEFT adapter, train_log.jsonl, finetune.json, loss_curve.svg); empty: "
                        "RUN/finetune/adapter");
  v.field("epochs", c.epochs, "passes over the training set (paper: 3)");
  v.field("max_steps", c.max_steps, "stop after this many optimizer steps (the schedule's length); 0: all epochs");
  v.field("lr", c.lr, "peak AdamW learning rate (paper: 5e-4)");
  v.field("schedule", c.schedule, "learning-rate schedule after warm-up (paper: cosine)");
  v.field("warmup_ratio", c.warmup_ratio, "share of steps with linear warm-up (paper: 0.03)");
  v.field("weight_decay", c.weight_decay, "AdamW weight decay (paper: 0)");
  v.field("max_grad_norm", c.max_grad_norm, "gradient clipping norm; 0 disables");
  v.field("batch_size", c.batch_size, "samples per micro-batch at most; a step uses batch_size x grad_accum samples over all ranks (paper: 8)");
  v.field("grad_accum", c.grad_accum, "micro-batches per optimizer step (paper: 8)");
  v.field("checkpoint_every", c.checkpoint_every, "steps between checkpoints for resuming after a kill; 0: only on SIGTERM");
  v.field("seed", c.seed, "seed of the LoRA init, dropout and data order; 0: run.seed");
}

template <class V>
void visit(V& v, EvaluateConfig& c) {
  v.field("test", c.test, "JSONL test set (lines with \"options\" and \"answer\" are also scored for accuracy)");
  v.field("adapter", c.adapter, "PEFT adapter folder; empty: finetune.out (RUN/finetune/adapter); none: the base model");
  v.field("out", c.out, "JSON result file; empty: RUN/evaluate/result.json");
  v.field("batch_size", c.batch_size, "samples per forward batch");
  v.field("accuracy", c.accuracy, "require answer options on every test line (an error names the first without)");
}

template <class V>
void visit(V& v, DsirConfig& c) {
  v.field("buckets", c.buckets, "hash buckets of the n-gram features (DSIR: 10000)");
  v.field("ngram", c.ngram, "n-grams of orders 1 .. ngram (2: unigrams and bigrams)");
  v.field("smoothing", c.smoothing, "pseudo-count added to every domain bucket");
  v.field("min_words", c.min_words, "candidates with fewer words are never drawn (DSIR's documents: 100)");
  v.field("resample", c.resample, "gumbel: drawn in proportion to the weights with run.seed (DSIR's default); top_k");
}

template <class V>
void visit(V& v, TsdsConfig& c) {
  v.field("alpha", c.alpha, "alignment-diversity trade-off in [0, 1] (TSDS: 0.5)");
  v.field("c", c.c, "scale constant C (TSDS: 5)");
  v.field("sigma", c.sigma, "kernel size of the density (diversity) term; 0: none (TSDS: 0.75)");
  v.field("max_k", c.max_k, "prefetched neighbours per domain sample, capped at N/10 (TSDS: 5000)");
  v.field("kde_k", c.kde_k, "neighbourhood of the density estimate, capped at N/10 (TSDS: 1000)");
  v.field("center", c.center, "centre the embeddings on the candidates' mean first");
  v.field("normalize", c.normalize, "then scale the embeddings to unit length");
}

template <class V>
void visit(V& v, StoreConfig& c) {
  v.field("dtype", c.dtype, "element type of feature matrices on disk");
  v.field("block_rows", c.block_rows, "rows per written block; a resumed stage restarts at a block");
  v.field("group_rows", c.group_rows,
          "records per group, the unit that embed and grads deal to ranks and batch within; divides "
          "block_rows; 0: auto (block_rows halved while the list has under 128 groups, down to 16 or "
          "grads.batch_size)");
}

template <class V>
void visit(V& v, Config& c) {
  v.group("run", c.run, "the run directory and seed");
  v.group("model", c.model, "base model");
  v.group("lora", c.lora, "LoRA adapter (shared by warm-up and gradients)");
  v.group("data", c.data, "domain set and candidate corpus");
  v.group("warmup", c.warmup, "warm-up LoRA training on the domain set");
  v.group("pretrain", c.pretrain, "pretraining a small proxy model from scratch (ntk-select pretrain)");
  v.group("embed", c.embed, "embeddings for kNN pre-selection");
  v.group("preselect", c.preselect, "kNN pre-selection");
  v.group("grads", c.grads, "projected per-sample LoRA gradients");
  v.group("score", c.score, "how a candidate's gradient becomes its score");
  v.group("select", c.select, "final NTK selection");
  v.group("less", c.less, "select.method less: the LESS baseline");
  v.group("dsir", c.dsir, "select.method dsir: the DSIR baseline");
  v.group("tsds", c.tsds, "select.method tsds: the TSDS baseline");
  v.group("finetune", c.finetune, "LoRA fine-tuning on a training mixture (ntk-select finetune)");
  v.group("evaluate", c.evaluate, "held-out test set scoring (ntk-select evaluate)");
  v.group("store", c.store, "HDF5 feature files");
}

}  // namespace ntks::config::schema
