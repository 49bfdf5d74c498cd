// DSIR's hashed n-gram features, bag-of-n-grams models, importance weights and
// resampling scores (include/ntks/select/dsir.h).

#include "ntks/select/dsir.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <thread>

#include "ntks/select/gumbel.h"
#include "ntks/util/error.h"

namespace ntks::select {

namespace {

constexpr double kLogEpsilon = 1e-8;  // DSIR adds it to both probabilities inside the logs

void check_dsir_options(const DsirOptions& o) {
  if (o.buckets < 1 || o.buckets > (std::int64_t{1} << 32))
    throw UsageError(fmt::format("DSIR buckets must be in [1, 2^32], not {}", o.buckets));
  if (o.ngram < 1) throw UsageError(fmt::format("DSIR n-gram order must be at least 1, not {}", o.ngram));
  if (!(o.target_smoothing >= 0) || !std::isfinite(o.target_smoothing))
    throw UsageError(fmt::format("DSIR target smoothing must be finite and >= 0, not {}", o.target_smoothing));
}

std::vector<double> probabilities(const std::vector<std::int64_t>& totals, double pseudo_count) {
  double sum = 0;
  for (std::int64_t t : totals) sum += static_cast<double>(t) + pseudo_count;
  std::vector<double> p(totals.size());
  for (std::size_t b = 0; b < totals.size(); ++b) p[b] = (static_cast<double>(totals[b]) + pseudo_count) / sum;
  return p;
}

std::int64_t sum_of(const std::vector<std::int64_t>& totals) {
  std::int64_t s = 0;
  for (std::int64_t t : totals) s += t;
  return s;
}

}  // namespace

NgramFeatures dsir_features(std::string_view text, const DsirOptions& options) {
  check_dsir_options(options);
  const std::vector<std::string> words = dsir_words(text);
  std::vector<std::uint32_t> hashed;
  hashed.reserve(words.size() * static_cast<std::size_t>(options.ngram));
  for (const std::string& w : words) hashed.push_back(dsir_bucket(w, options.buckets));
  std::string joined;
  for (int n = 2; n <= options.ngram; ++n) {
    for (std::size_t i = 0; i + n <= words.size(); ++i) {
      joined = words[i];
      for (int j = 1; j < n; ++j) {
        joined += ' ';
        joined += words[i + j];
      }
      hashed.push_back(dsir_bucket(joined, options.buckets));
    }
  }
  std::sort(hashed.begin(), hashed.end());
  NgramFeatures f;
  f.words = static_cast<std::int64_t>(words.size());
  for (std::size_t i = 0; i < hashed.size();) {
    std::size_t j = i;
    while (j < hashed.size() && hashed[j] == hashed[i]) ++j;
    f.buckets.push_back(hashed[i]);
    f.counts.push_back(static_cast<std::uint32_t>(j - i));
    i = j;
  }
  return f;
}

std::vector<NgramFeatures> dsir_featurize(const std::vector<std::string_view>& texts, const DsirOptions& options,
                                          int threads) {
  check_dsir_options(options);
  std::vector<NgramFeatures> out(texts.size());
  const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
  const std::size_t parts = std::min(texts.size(), threads > 0 ? static_cast<std::size_t>(threads) : cores);
  if (parts <= 1) {
    for (std::size_t i = 0; i < texts.size(); ++i) out[i] = dsir_features(texts[i], options);
    return out;
  }
  // Contiguous parts: each text's features are computed alone, so the split only changes who computes them.
  std::vector<std::thread> pool;
  std::vector<std::exception_ptr> errors(parts);
  for (std::size_t p = 0; p < parts; ++p) {
    pool.emplace_back([&, p] {
      try {
        for (std::size_t i = texts.size() * p / parts; i < texts.size() * (p + 1) / parts; ++i)
          out[i] = dsir_features(texts[i], options);
      } catch (...) {
        errors[p] = std::current_exception();
      }
    });
  }
  for (std::thread& t : pool) t.join();
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
  return out;
}

std::vector<std::int64_t> dsir_bucket_totals(const std::vector<NgramFeatures>& features, std::int64_t buckets) {
  DsirOptions o;
  o.buckets = buckets;
  check_dsir_options(o);
  std::vector<std::int64_t> totals(static_cast<std::size_t>(buckets), 0);
  for (const NgramFeatures& f : features) {
    for (std::size_t i = 0; i < f.buckets.size(); ++i) {
      NTKS_CHECK(f.buckets[i] < totals.size(), "bucket {} of {}", f.buckets[i], buckets);
      totals[f.buckets[i]] += f.counts[i];
    }
  }
  return totals;
}

DsirModel fit_dsir(const std::vector<std::int64_t>& target_totals, const std::vector<std::int64_t>& raw_totals,
                   const DsirOptions& options) {
  check_dsir_options(options);
  NTKS_CHECK(target_totals.size() == raw_totals.size() &&
                 static_cast<std::int64_t>(raw_totals.size()) == options.buckets,
             "target totals {}, raw totals {}, buckets {}", target_totals.size(), raw_totals.size(), options.buckets);
  DsirModel m;
  m.target_ngrams = sum_of(target_totals);
  m.raw_ngrams = sum_of(raw_totals);
  if (m.raw_ngrams == 0) throw InputError("DSIR: the candidate pool has no words to fit the raw n-gram model on");
  if (m.target_ngrams == 0 && options.target_smoothing == 0)
    throw InputError("DSIR: the domain texts have no words to fit the target n-gram model on");
  const std::vector<double> target = probabilities(target_totals, options.target_smoothing);
  const std::vector<double> raw = probabilities(raw_totals, 0.0);
  m.log_ratio.resize(raw.size());
  for (std::size_t b = 0; b < raw.size(); ++b)
    m.log_ratio[b] = std::log(target[b] + kLogEpsilon) - std::log(raw[b] + kLogEpsilon);
  return m;
}

double dsir_log_weight(const NgramFeatures& features, const DsirModel& model) {
  double s = 0;
  for (std::size_t i = 0; i < features.buckets.size(); ++i) {
    NTKS_CHECK(features.buckets[i] < model.log_ratio.size(), "bucket {} of {}", features.buckets[i],
               model.log_ratio.size());
    s += static_cast<double>(features.counts[i]) * model.log_ratio[features.buckets[i]];
  }
  return s;
}

std::vector<double> dsir_log_weights(const std::vector<NgramFeatures>& features, const DsirModel& model,
                                     const DsirOptions& options) {
  std::vector<double> w(features.size());
  for (std::size_t i = 0; i < features.size(); ++i)
    w[i] = features[i].words < options.min_words ? -std::numeric_limits<double>::infinity()
                                                 : dsir_log_weight(features[i], model);
  return w;
}

std::vector<double> dsir_scores(const std::vector<double>& log_weights, const std::vector<std::int64_t>& records,
                                DsirResample mode, std::uint64_t seed) {
  NTKS_CHECK(log_weights.size() == records.size(), "{} weights for {} records", log_weights.size(), records.size());
  if (mode == DsirResample::top_k) return log_weights;
  return gumbel_perturbed(log_weights, records, seed);
}

}  // namespace ntks::select
