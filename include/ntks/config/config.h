#pragma once
// The typed configuration of a run (DESIGN §6).
//
// Every key has a default, taken from the paper (arXiv 2511.07380, Table 5 and
// §5.1) where it gives one. Code reads cfg.grads.dim, never a string key: the
// YAML side (load.h) maps keys onto these fields through one schema
// (src/config/schema.h), which also drives --set, the dump and the hash.

#include <cstdint>
#include <string>
#include <vector>

namespace ntks::config {

// Enumerations are written in YAML by the names in enum_names() (enums.h).
enum class DType { bf16, fp16, fp32 };
enum class Device { auto_, cpu, cuda };
enum class Template { auto_, llama3, qwen3, plain };
enum class RecordFormat { auto_, alpaca, messages, prompt_response, tokens };
enum class OnError { fail, skip };
enum class Overlong { truncate, drop };
enum class Schedule { cosine, linear, constant };
enum class IndexKind { flat, ivf };
enum class GradOutput { logit_sum, log_likelihood };
enum class Projection { rademacher, sparse };
enum class ScoreRule { ntk, lda };
enum class SelectMethod { ntk, knn, random, less, dsir, tsds };
enum class LessReduce { max, mean };
enum class DsirResampleMode { gumbel, top_k };
enum class StoreDType { fp32, fp16 };

struct RunConfig {
  std::string dir = "ntks-run";  ///< run directory: every stage's outputs and manifests
  std::int64_t seed = 42;        ///< seed of LoRA init, dropout, data order and mixture shuffle
};

struct ModelConfig {
  std::string path;                    ///< Hugging Face model folder (config.json, *.safetensors)
  std::string tokenizer;               ///< tokenizer.json; empty: <path>/tokenizer.json
  DType dtype = DType::bf16;           ///< compute dtype of the frozen weights
  Device device = Device::auto_;       ///< auto: CUDA when built with it and a GPU is visible
  Template chat_template = Template::auto_;  ///< YAML key "template"; auto: from config.json
  std::int64_t max_seq_len = 3072;     ///< tokens per sample (paper: 3072)
};

struct LoraConfig {
  std::int64_t r = 32;       ///< rank (paper: 32)
  double alpha = 16;         ///< scaling numerator: the update is (alpha / r) B A (paper: 16)
  double dropout = 0.05;     ///< dropout on the LoRA input, training only (paper: 0.05)
  std::vector<std::string> targets = {"q_proj", "k_proj", "v_proj", "o_proj",
                                      "gate_proj", "up_proj", "down_proj"};
};

/// Field names of the input records, for corpora that spell them differently.
struct DataFields {
  std::string id = "id";
  std::string instruction = "instruction";
  std::string input = "input";
  std::string output = "output";
  std::string messages = "messages";
  std::string prompt = "prompt";
  std::string response = "response";
  std::string system = "system";
};

struct DataConfig {
  std::string domain;                   ///< JSONL file of the ~1K domain samples
  std::vector<std::string> candidates;  ///< JSONL files of the candidate corpus, one global index
  RecordFormat format = RecordFormat::auto_;  ///< record layout; auto: detected per line
  DataFields fields;
  OnError on_error = OnError::fail;     ///< skip: bad lines go to RUN/skipped.jsonl with reasons
  Overlong overlong = Overlong::truncate;  ///< samples over model.max_seq_len
};

struct WarmupConfig {
  std::int64_t epochs = 3;          ///< passes over the domain set (paper: 3)
  double lr = 5e-4;                 ///< AdamW learning rate (paper: 5e-4)
  Schedule schedule = Schedule::cosine;  ///< learning-rate schedule after warm-up (paper: cosine)
  double warmup_ratio = 0.03;       ///< share of steps with linear warm-up (paper: 0.03)
  double weight_decay = 0;          ///< AdamW weight decay (paper: 0)
  double max_grad_norm = 1.0;       ///< gradient clipping; 0 disables (Hugging Face default)
  std::int64_t batch_size = 8;      ///< samples per micro-batch at most; a step uses batch_size x grad_accum samples over all ranks (paper: 8)
  std::int64_t grad_accum = 8;      ///< micro-batches per optimizer step (paper: 8)
};

/// Full-parameter pretraining of a small proxy model from random init
/// (`ntk-select pretrain`; DESIGN §10). model.path is the initial checkpoint
/// (`make-model --pretrain-init`), model.tokenizer the tokenizer it is trained
/// with; the trained model is a Hugging Face folder the selection loads.
struct PretrainConfig {
  std::vector<std::string> corpus;   ///< JSONL files, one document per line (`ntk-select pretrain-data` writes one)
  std::string text_field = "text";   ///< the documents' text field
  std::string out;                   ///< trained model folder; empty: RUN/pretrain/model
  std::int64_t seq_len = 256;        ///< tokens per packed sequence (documents joined by the end-of-text token)
  std::int64_t epochs = 1;           ///< passes over the training sequences
  std::int64_t max_steps = 0;        ///< stop (and end the schedule) after this many steps; 0: all epochs
  double lr = 1e-3;                  ///< peak AdamW learning rate
  Schedule schedule = Schedule::cosine;  ///< after the linear warm-up
  double warmup_ratio = 0.02;        ///< share of steps with linear warm-up
  double weight_decay = 0.1;         ///< AdamW weight decay on matrices and embeddings (not norms, biases)
  double beta2 = 0.95;               ///< AdamW second-moment decay (small-model pretraining practice)
  double max_grad_norm = 1.0;        ///< gradient clipping; 0 disables
  std::int64_t batch_size = 16;      ///< sequences per micro-batch at most
  std::int64_t grad_accum = 1;       ///< micro-batches per step; a step uses batch_size x grad_accum sequences over all ranks
  double eval_share = 0.01;          ///< share of documents held out (by content hash) for the held-out loss
  std::int64_t eval_sequences = 256; ///< held-out sequences evaluated, at most
  std::int64_t eval_every = 200;     ///< steps between held-out evaluations; 0: only at the end
  std::int64_t checkpoint_every = 200;  ///< steps between checkpoints (resume after a kill); 0: only on SIGTERM
};

struct EmbedConfig {
  std::int64_t batch_tokens = 0;  ///< padded tokens per forward batch; 0: auto (4096 on CPUs, 16384 on GPUs)
};

struct PreselectConfig {
  std::int64_t k = 100;          ///< neighbours per domain sample
  std::int64_t size = 0;         ///< pre-selected candidates m; 0: multiple x select.size
  double multiple = 4;           ///< m as a multiple of select.size (paper: 4; 4..16 advised)
  IndexKind index = IndexKind::flat;  ///< flat: exact; ivf: approximate, for huge corpora
  std::int64_t nlist = 0;        ///< IVF lists; 0: 4 * sqrt(candidates)
  std::int64_t nprobe = 32;      ///< IVF lists searched per query
  std::int64_t recall_sample = 64;  ///< IVF: domain points also searched exactly, for the recall; 0: none
  bool gpu = false;              ///< Faiss GPU index (needs NTKS_WITH_FAISS_GPU)
};

struct GradsConfig {
  GradOutput output = GradOutput::logit_sum;  ///< f(x): Jacobian-free logit sum or mean log-likelihood
  std::int64_t dim = 8192;       ///< projection dimension d; 0: unprojected gradient (debug)
  std::int64_t seed = 42;        ///< seed of the projection matrix
  /// rademacher: the paper's dense ±1 matrix; sparse: beyond the paper, a
  /// sparse JL transform with `sparsity` nonzeros per gradient coordinate
  /// (features/projector.h), the same kernel in expectation at a small cost.
  Projection projection = Projection::rademacher;
  std::int64_t sparsity = 4;     ///< sparse: nonzeros per gradient coordinate (divides dim)
  double scale = 1;              ///< factor on every gradient, for numerical range
  std::int64_t batch_size = 8;   ///< samples per per-sample-gradient batch
};

/// How a candidate's projected gradient becomes its score (`ntk-select score`).
struct ScoreConfig {
  /// ntk: the paper's s(c) = <g(c), mean_D g>. lda: beyond the paper, the
  /// domain-vs-candidates discriminant s(c) = (g(c) - mu_C)^T (Sigma + lambda I)^-1
  /// (mu_D - mu_C), Sigma the pooled covariance of the domain and candidate
  /// gradients (docs/architecture.md, "Scores").
  ScoreRule rule = ScoreRule::ntk;
  double shrink = 0.1;  ///< lda: lambda = shrink x the mean eigenvalue of Sigma (its trace / min(rows, dim))
};

struct SelectConfig {
  std::int64_t size = 9000;      ///< selected candidates M (paper: 9K)
  /// ntk: NTK-Selector (every stage). The paper's baselines, through the same
  /// stages and outputs: knn, the pre-selection alone (its M most relevant);
  /// random, M candidates drawn with run.seed from the whole corpus (no model:
  /// the same draw for every domain set); less, LESS (see LessConfig); dsir,
  /// DSIR's hashed n-gram importance weights (DsirConfig, no model); tsds,
  /// TSDS's optimal-transport alignment of the embeddings (TsdsConfig).
  SelectMethod method = SelectMethod::ntk;
};

/// select.method less (LESS, xia2024less, as the paper's appendix A.6.2 runs
/// it): the warm-up trains the LoRA adapter on a random sample of the
/// candidates (not the domain set); the candidates' projected gradients of the
/// loss are Adam directions from its optimizer state, the domain's plain
/// (SGD) gradients; a candidate scores the cosine to the domain samples,
/// reduced over them.
struct LessConfig {
  std::int64_t warmup_samples = 2000;  ///< candidates the warm-up trains on, drawn with run.seed (paper: 2K, 0.1% of the pool)
  LessReduce reduce = LessReduce::max; ///< over domain samples: max (LESS's max over targets) or mean
};

/// LoRA fine-tuning of the model on a training mixture (`ntk-select
/// finetune`): the paper's Table 5 settings by default; the adapter's shape is
/// lora.* (shared with the warm-up and the gradients).
struct FinetuneConfig {
  std::string data;                 ///< JSONL training set; empty: RUN/select/mixture.jsonl (checked against RUN/select/report.json)
  std::string out;                  ///< adapter folder (PEFT files, logs, finetune.json); empty: RUN/finetune/adapter
  std::int64_t epochs = 3;          ///< passes over the training set (paper: 3)
  std::int64_t max_steps = 0;       ///< stop (and end the schedule) after this many steps; 0: all epochs
  double lr = 5e-4;                 ///< peak AdamW learning rate (paper: 5e-4)
  Schedule schedule = Schedule::cosine;  ///< after the linear warm-up (paper: cosine)
  double warmup_ratio = 0.03;       ///< share of steps with linear warm-up (paper: 0.03)
  double weight_decay = 0;          ///< AdamW weight decay (paper: 0)
  double max_grad_norm = 1.0;       ///< gradient clipping; 0 disables
  std::int64_t batch_size = 8;      ///< samples per micro-batch at most (paper: 8 per device)
  std::int64_t grad_accum = 8;      ///< micro-batches per step; a step uses batch_size x grad_accum samples over all ranks (paper: 8)
  std::int64_t checkpoint_every = 100;  ///< steps between checkpoints (resume after a kill); 0: only on SIGTERM
  std::int64_t seed = 0;            ///< LoRA init, dropout and data order; 0: run.seed
};

/// Scoring a held-out test set with the model and an adapter (`ntk-select evaluate`).
struct EvaluateConfig {
  std::string test;                 ///< JSONL test set
  std::string adapter;              ///< PEFT adapter folder; empty: finetune.out (RUN/finetune/adapter); none: the base model
  std::string out;                  ///< JSON result; empty: RUN/evaluate/result.json
  std::int64_t batch_size = 8;      ///< samples per forward batch
  bool accuracy = false;            ///< require answer options on every test line (they are scored wherever present)
};

/// select.method dsir (DSIR, xie2023dsir): hashed n-gram bag-of-words models
/// of the domain set and of the pool, each candidate weighted by their ratio.
struct DsirConfig {
  std::int64_t buckets = 10000;   ///< hash buckets (DSIR: 10,000)
  std::int64_t ngram = 2;         ///< n-grams of orders 1 .. ngram (2: unigrams and bigrams)
  double smoothing = 0;           ///< pseudo-count on every domain bucket (DSIR's target_laplace_smoothing)
  std::int64_t min_words = 0;     ///< candidates with fewer words are never drawn (DSIR's documents: 100)
  DsirResampleMode resample = DsirResampleMode::gumbel;  ///< gumbel: drawn in proportion to the weights (DSIR's default); top_k
};

/// select.method tsds (TSDS, liu2024tsds): candidates drawn in proportion to
/// an optimal-transport alignment of the embeddings to the domain's, with a
/// kernel-density diversity term (defaults: TSDS's recommended settings).
struct TsdsConfig {
  double alpha = 0.5;             ///< alignment-diversity trade-off in [0, 1]
  double c = 5.0;                 ///< scale constant C
  double sigma = 0.75;            ///< kernel size of the density estimate; 0: no diversity term
  std::int64_t max_k = 5000;      ///< prefetched neighbours per domain sample (capped at N/10)
  std::int64_t kde_k = 1000;      ///< density neighbourhood (capped at N/10)
  bool center = true;             ///< centre the embeddings on the candidates' mean first (ours)
  bool normalize = true;          ///< then scale them to unit length (ours)
};

struct StoreConfig {
  StoreDType dtype = StoreDType::fp32;  ///< element type of feature matrices on disk
  std::int64_t block_rows = 1024;       ///< rows written (and resumable) per block
  std::int64_t group_rows = 0;          ///< records per group (shard unit, batched together); 0: auto
};

struct Config {
  RunConfig run;
  ModelConfig model;
  LoraConfig lora;
  DataConfig data;
  WarmupConfig warmup;
  PretrainConfig pretrain;
  EmbedConfig embed;
  PreselectConfig preselect;
  GradsConfig grads;
  ScoreConfig score;
  SelectConfig select;
  LessConfig less;
  DsirConfig dsir;
  TsdsConfig tsds;
  FinetuneConfig finetune;
  EvaluateConfig evaluate;
  StoreConfig store;
};

/// Pre-selection size m after resolving preselect.size / preselect.multiple.
std::int64_t preselect_size(const Config& cfg);

}  // namespace ntks::config
