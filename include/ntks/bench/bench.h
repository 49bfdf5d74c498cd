#pragma once
// Benchmarks (`ntk-select bench`): throughput measured against this
// machine's own GEMM peak, in the same process and thread count, so the
// figures compare across machines. Never timed unit tests.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace ntks::bench {

struct GemmPeak {
  double gflops = 0;  ///< best over the sizes tried
  int64_t n = 0;      ///< square size that reached it
};

/// Best square GEMM throughput in `dtype` on `device` over sizes 512..4096,
/// with the BLAS threading each call itself (util::set_tiled_blas(false)
/// meanwhile): the reference every "fraction of the peak" is taken against,
/// so that what the fixed tiles cost shows in those fractions.
GemmPeak gemm_peak(at::ScalarType dtype, at::Device device, double seconds_per_size = 1.0);
/// Runs `work` once under torch's profiler and writes its trace (Chrome
/// trace format) to `path`; bench/profile_summary.py sums it per operator.
void profile_once(const std::string& path, const std::function<void()>& work);
/// The same through the fixed tiles that every other GEMM of the tool runs in.
GemmPeak tiled_gemm_peak(at::ScalarType dtype, at::Device device, double seconds_per_size = 1.0);

struct ForwardBenchOptions {
  int64_t layers = 8, hidden = 512, intermediate = 1408, heads = 8, kv_heads = 4, vocab = 32000;
  int64_t batch = 4, seq_len = 512;  ///< tokens per forward = batch * seq_len
  int reps = 5;
  at::ScalarType dtype = at::kFloat;
  at::Device device = at::kCPU;
};

struct ForwardBenchResult {
  double params_millions = 0;
  double tokens_per_s = 0;
  double gflops = 0;         ///< achieved, counting matmul FLOPs of the hidden-state pass
  GemmPeak peak;
  double fraction_of_peak = 0;
};

/// Random checkpoint of the given shape (written to a temp folder), loaded
/// and run `reps` times on batch x seq_len tokens after one warm-up pass.
ForwardBenchResult forward_bench(const ForwardBenchOptions& opt);

// ---- embeddings (embed_bench.cpp) ---------------------------------------------
// The embed stage's computation (features::embed_samples: sorted by length,
// batched by padded-token budget, masked mean of the final hidden state) on
// samples of random lengths.

struct EmbedBenchOptions {
  // The grads bench's model: 8 × (512 hidden, 1408 MLP), vocabulary 8192 ≈ 32M parameters.
  int64_t layers = 8, hidden = 512, intermediate = 1408, heads = 8, kv_heads = 4, vocab = 8192;
  int64_t samples = 64;                 ///< samples per timed pass
  int64_t min_len = 32, max_len = 256;  ///< token lengths, uniform in [min_len, max_len]
  int64_t batch_tokens = 16384;         ///< padded tokens per batch (embed.batch_tokens)
  int reps = 3;                         ///< timed passes; the fastest counts
  std::string profile;                  ///< non-empty: one more pass under torch's profiler, trace written here
  at::ScalarType dtype = at::kFloat;
  at::Device device = at::kCPU;
};

struct EmbedBenchResult {
  double params_millions = 0;
  int64_t batches = 0;           ///< batches per pass
  double seconds = 0;            ///< fastest pass over all samples
  double samples_per_s = 0;
  double tokens_per_s = 0;       ///< real (unpadded) tokens
  double padding = 0;            ///< share of the computed tokens that are padding
  double gflops = 0;             ///< useful: matmul FLOPs of each sample at its own length
  double executed_gflops = 0;    ///< what the padded batches ran
  GemmPeak peak;
  double fraction_of_peak = 0;   ///< gflops / peak
};

EmbedBenchResult embed_bench(const EmbedBenchOptions& opt);

// ---- tokenizer (tokenizer_bench.cpp) -----------------------------------------
// Our Tokenizer::encode against Hugging Face's Rust tokenizers (the npm binding,
// run by bench/hf_tokenizer_bench.js under node on one thread) on the same
// documents in one run, then our rate over several thread counts.

struct TokenizerBenchOptions {
  std::string tokenizer;       ///< tokenizer.json
  std::string text;            ///< documents: "text" of each line of a .jsonl, else each line; "" = generated
  size_t generated_bytes = 8u << 20;  ///< size of the generated text
  std::vector<int> threads = {1, 2};
  int reps = 3;                ///< timed passes per figure; the fastest counts
  bool add_special_tokens = true;
  std::string hf_script = "bench/hf_tokenizer_bench.js";  ///< "" skips Hugging Face
  std::string node = "node";
};

struct TokenizerRate {
  int threads = 1;
  double seconds = 0;      ///< fastest pass over all documents
  double cpu_seconds = 0;  ///< CPU time of that pass, summed over its threads (ours only)
  double mb_per_s = 0, tokens_per_s = 0;
};

struct TokenizerBenchResult {
  size_t documents = 0, bytes = 0;
  uint64_t tokens = 0;                ///< ours, over all documents
  std::string text_source;            ///< what the documents are
  std::vector<TokenizerRate> ours;    ///< one per entry of threads
  bool hf_ran = false;
  std::string hf_note;                ///< why Hugging Face did not run, or its version
  TokenizerRate hf;                   ///< one thread
  uint64_t hf_tokens = 0;             ///< must equal tokens
};

/// Deterministic mixed text of about `bytes` bytes in documents of 0.5-8 KB:
/// English prose, source code, numbers and dates, CJK, Cyrillic, Arabic,
/// accented and combining Latin, emoji, and runs of spaces, tabs and newlines.
std::vector<std::string> generate_tokenizer_text(size_t bytes, uint64_t seed = 1);

/// Runs both tokenizers; throws InputError when a file cannot be read.
TokenizerBenchResult tokenizer_bench(const TokenizerBenchOptions& opt);

}  // namespace ntks::bench
