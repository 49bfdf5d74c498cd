#pragma once
// DSIR, data selection by importance resampling (Xie et al. 2023; the
// data-selection package of github.com/p-lambda/dsir, HashedNgramDSIR), as a
// scoring core: the caller featurises the domain texts and the pool, fits the
// model and takes the top M of the scores.
//
//   words     text.lower() (Python's, full Unicode, final sigma included), then
//             NLTK's WordPunctTokenizer: maximal runs of \w characters and
//             maximal runs of characters that are neither \w nor \s (Python's
//             classes, tables in src/select/dsir_unicode.cpp)
//   n-grams   every word, then every pair of adjacent words joined by " "
//             (orders 1 .. ngram; DSIR's default ngrams = 2)
//   bucket    SHA-256 of the n-gram's UTF-8 bytes read as a 256-bit big-endian
//             integer, mod `buckets` (DSIR's hash_buckets, 10,000 buckets), so
//             the buckets equal DSIR's bit for bit
//   models    bucket totals over the domain texts (target) and over the pool
//             (raw): p_raw = raw / sum raw,
//             p_target = (target + lambda) / (sum target + lambda * buckets)
//   weight    log w(x) = sum_b count_b(x) * (log(p_target,b + 1e-8) - log(p_raw,b + 1e-8))
//   resample  Gumbel top-k: score = log w + G(seed, record) (gumbel.h), whose top
//             M is a draw of M distinct texts with probability proportional to w;
//             or deterministic top-k: score = log w
//
// Departures from the package: the raw model is fitted on the whole pool
// (DSIR's num_tokens_to_fit = "auto" stops at 100,000 x buckets = 1e9 n-grams,
// more than a 1.8M-sample instruction pool holds), and the minimum length
// filter (its min_example_length = 100 words, made for Pile documents) is off
// unless min_words is set: instruction samples are often shorter.
//
// Everything is integer counts until the weight, and each weight is one sum
// over its buckets in ascending order, so the results never depend on the
// thread count or on how the pool is split into ranges.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ntks::select {

struct DsirOptions {
  std::int64_t buckets = 10000;   ///< hash buckets (DSIR's num_buckets)
  int ngram = 2;                  ///< n-grams of orders 1 .. ngram (DSIR's ngrams; 2: unigrams and bigrams)
  double target_smoothing = 0.0;  ///< pseudo-count added to every target bucket (DSIR's target_laplace_smoothing)
  std::int64_t min_words = 0;     ///< texts of fewer words get weight -inf (DSIR's min_example_length; it uses 100)
};

/// DSIR's words of `text` (UTF-8; a byte that is not valid UTF-8 counts as one
/// character that is neither a word character nor a space).
std::vector<std::string> dsir_words(std::string_view text);

/// DSIR's bucket of one n-gram: SHA-256 of its bytes mod `buckets`.
std::uint32_t dsir_bucket(std::string_view ngram, std::int64_t buckets);

/// SHA-256 digest of `bytes` (FIPS 180-4).
std::string sha256(std::string_view bytes);

/// One text's hashed n-gram counts.
struct NgramFeatures {
  std::vector<std::uint32_t> buckets;  ///< distinct buckets, ascending
  std::vector<std::uint32_t> counts;   ///< how many of the text's n-grams fell in each
  std::int64_t words = 0;              ///< the text's words
};

/// The features of one text. UsageError when buckets is not in [1, 2^32] or ngram < 1.
NgramFeatures dsir_features(std::string_view text, const DsirOptions& options);

/// The features of every text, computed on `threads` threads (0: every core)
/// over contiguous parts; the same result for any thread count.
std::vector<NgramFeatures> dsir_featurize(const std::vector<std::string_view>& texts, const DsirOptions& options,
                                          int threads = 0);

/// Bucket totals [buckets] of `features` (a bag-of-n-grams model's counts).
/// Totals of parts of a pool add up to the pool's, so ranks can featurise
/// their own ranges and sum these (exact in float64 below 2^53).
std::vector<std::int64_t> dsir_bucket_totals(const std::vector<NgramFeatures>& features, std::int64_t buckets);

/// The fitted importance estimator.
struct DsirModel {
  std::vector<double> log_ratio;  ///< [buckets] log(p_target + 1e-8) - log(p_raw + 1e-8)
  std::int64_t target_ngrams = 0;  ///< n-grams the target model was fitted on
  std::int64_t raw_ngrams = 0;     ///< n-grams the raw model was fitted on
};

/// Fits the model from the domain's and the pool's bucket totals. InputError
/// when the raw totals are all zero (a pool without words) or the target
/// totals are and there is no smoothing; InternalError on a length mismatch.
DsirModel fit_dsir(const std::vector<std::int64_t>& target_totals, const std::vector<std::int64_t>& raw_totals,
                   const DsirOptions& options);

/// log w of one text: sum over its buckets, ascending, of count * log_ratio.
double dsir_log_weight(const NgramFeatures& features, const DsirModel& model);

/// log w of every text; -inf for a text of fewer than options.min_words words.
std::vector<double> dsir_log_weights(const std::vector<NgramFeatures>& features, const DsirModel& model,
                                     const DsirOptions& options);

enum class DsirResample {
  gumbel,  ///< DSIR's default: sampling without replacement in proportion to w
  top_k,   ///< DSIR's top_k=True: the M largest weights
};

/// Scores whose top M (select/topk.h: higher first, ties by lower record) is
/// DSIR's resample of M texts: log w + gumbel_noise(seed, record), or log w.
std::vector<double> dsir_scores(const std::vector<double>& log_weights, const std::vector<std::int64_t>& records,
                                DsirResample mode, std::uint64_t seed);

}  // namespace ntks::select
