// DSIR's scoring core (select/dsir.h) and the Gumbel noise it resamples with
// (select/gumbel.h): SHA-256 against NIST's vectors, words and weights against
// an independent Python/numpy DSIR (tests/scripts/dsir_reference.py, Python's
// own re, str.lower() and hashlib), hand-computed pools, results independent of
// threads and shard splits, and the Gumbel top-k law.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "ntks/select/dsir.h"
#include "ntks/select/gumbel.h"
#include "ntks/select/shuffle.h"
#include "ntks/select/topk.h"
#include "ntks/util/error.h"
#include "ntks/util/files.h"
#include "test_util.h"

using ntks::testing::kPython;

namespace {

using namespace ntks;
using namespace ntks::select;
using ntks::testing::error_of;
using ntks::testing::run_command;
using ntks::testing::TempDir;

const std::string kDsirReference = ntks::testing::test_script("dsir_reference.py");

std::string hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) out += {digits[c >> 4], digits[c & 15]};
  return out;
}

// Runs the reference on `input` (JSON) and returns its JSON output.
nlohmann::json reference(const std::string& command, const nlohmann::json& input) {
  TempDir dir;
  const std::string in = dir.write("in.json", input.dump());
  const auto r = run_command(kPython + " " + kDsirReference + " " + command + " " + in + " > " + dir.file("out.json"));
  EXPECT_EQ(r.status, 0) << r.output;
  return nlohmann::json::parse(read_file(dir.file("out.json")));
}

bool have_numpy() { return run_command(kPython + " -c 'import numpy'").status == 0; }

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += {static_cast<char>(0xC0 | (c >> 6)), static_cast<char>(0x80 | (c & 0x3F))};
  } else if (c < 0x10000) {
    out += {static_cast<char>(0xE0 | (c >> 12)), static_cast<char>(0x80 | ((c >> 6) & 0x3F)),
            static_cast<char>(0x80 | (c & 0x3F))};
  } else {
    out += {static_cast<char>(0xF0 | (c >> 18)), static_cast<char>(0x80 | ((c >> 12) & 0x3F)),
            static_cast<char>(0x80 | ((c >> 6) & 0x3F)), static_cast<char>(0x80 | (c & 0x3F))};
  }
}

// Text made of characters from the blocks where lower-casing and the word
// classes are least regular, and of runs of the characters the rules single out.
std::vector<std::string> unicode_texts(int count, std::uint64_t seed) {
  const std::vector<std::pair<char32_t, char32_t>> blocks = {
      {0x20, 0x7E},     {0x80, 0x24F},    {0x250, 0x36F},   {0x370, 0x3FF},   {0x400, 0x52F},
      {0x530, 0x5FF},   {0x600, 0x6FF},   {0x900, 0x97F},   {0x1E00, 0x1FFF}, {0x2000, 0x214F},
      {0x2150, 0x24FF}, {0x2C00, 0x2DFF}, {0x3000, 0x30FF}, {0x4E00, 0x4E50}, {0xA640, 0xA7FF},
      {0xFB00, 0xFFFD}, {0x10400, 0x1044F}, {0x1D400, 0x1D7FF}, {0x1E900, 0x1E95F}, {0x1F300, 0x1F6FF}};
  const std::vector<char32_t> special = {0x3A3, 0x3A3, 0x391, 0x3C3, 0x130, 0x131, 0x307, 0x2E, 0x27, 0xAD,
                                         0x2019, 0x20,  0xA0,  0x3000, 0x2028, 0x85, 0x1C,  0x9,  0x5F, 0x41};
  SplitMix64 g(seed);
  std::vector<std::string> texts;
  for (int i = 0; i < count; ++i) {
    std::string t;
    const std::uint64_t n = 1 + g.below(40);
    for (std::uint64_t j = 0; j < n; ++j) {
      if (g.below(3) == 0) {
        append_utf8(t, special[g.below(special.size())]);
        continue;
      }
      const auto& [lo, hi] = blocks[g.below(blocks.size())];
      const auto c = static_cast<char32_t>(lo + g.below(hi - lo + 1));
      if (c >= 0xD800 && c <= 0xDFFF) continue;
      append_utf8(t, c);
    }
    texts.push_back(t);
  }
  return texts;
}

// A seeded toy pool: sentences over a small vocabulary, some of it the domain's.
std::vector<std::string> toy_texts(int count, std::uint64_t seed, bool medical) {
  const std::vector<std::string> common = {"the", "a", "of", "and", "is", "in", "to", "with", ",", ".", "it", "was"};
  const std::vector<std::string> med = {"Heart", "blood", "pressure", "patient", "dose", "fever", "kidney", "CT"};
  const std::vector<std::string> other = {"market", "stock", "Price", "goal", "match", "guitar", "river", "code"};
  SplitMix64 g(seed);
  std::vector<std::string> texts;
  for (int i = 0; i < count; ++i) {
    const bool topic = medical || g.below(4) == 0;
    std::string t;
    const std::uint64_t n = g.below(30);  // some texts are empty
    for (std::uint64_t j = 0; j < n; ++j) {
      const auto& words = g.below(2) == 0 ? common : (topic ? med : other);
      t += words[g.below(words.size())];
      t += g.below(5) == 0 ? "'s " : " ";
    }
    texts.push_back(t);
  }
  return texts;
}

std::vector<std::string_view> views(const std::vector<std::string>& texts) {
  return std::vector<std::string_view>(texts.begin(), texts.end());
}

TEST(DsirHash, Sha256MatchesNistVectors) {
  EXPECT_EQ(hex(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hex(sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(hex(sha256(std::string(1000000, 'a'))),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // Padding that spills into a second block (55, 56 and 64 bytes), from Python's hashlib.
  EXPECT_EQ(hex(sha256(std::string(55, 'a'))), "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  EXPECT_EQ(hex(sha256(std::string(56, 'a'))), "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
  EXPECT_EQ(hex(sha256(std::string(64, 'a'))), "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

TEST(DsirHash, BucketsAreDsirsPinnedValues) {
  // int(hashlib.sha256(s.encode()).hexdigest(), 16) % 10000
  EXPECT_EQ(dsir_bucket("hello", 10000), 7620u);
  EXPECT_EQ(dsir_bucket(std::string(100, 'a'), 10000), 2638u);
  EXPECT_EQ(dsir_bucket("anything", 1), 0u);
  EXPECT_NE(error_of<UsageError>([] { dsir_bucket("x", 0); }).find("buckets"), std::string::npos);
}

TEST(DsirWords, LowerCaseWordAndPunctuationRuns) {
  EXPECT_EQ(dsir_words("Hello, World!! don't  stop_it 3.14"),
            (std::vector<std::string>{"hello", ",", "world", "!!", "don", "'", "t", "stop_it", "3", ".", "14"}));
  EXPECT_TRUE(dsir_words(" \t\n ").empty());
  // Python's str.lower(): final sigma by context, and the dotted capital I
  // that lower-cases to "i" + U+0307 (not a word character).
  EXPECT_EQ(dsir_words("ΟΔΟΣ Σ ΑΣ.Β"), (std::vector<std::string>{"οδος", "σ", "ασ", ".", "β"}));
  EXPECT_EQ(dsir_words("İzmir"), (std::vector<std::string>{"i", "\xCC\x87", "zmir"}));
  // A byte that is not UTF-8 is neither a word character nor a space.
  EXPECT_EQ(dsir_words("ab\xFF" "cd \xC3"), (std::vector<std::string>{"ab", "\xFF", "cd", "\xC3"}));
}

// Every code point once, in order, a capital sigma after every third so that
// each one is tried as the neighbour that decides a final sigma.
std::vector<std::string> every_code_point() {
  std::vector<std::string> texts(1);
  int in_text = 0;
  for (char32_t c = 0; c <= 0x10FFFF; ++c) {
    if (c >= 0xD800 && c <= 0xDFFF) continue;
    append_utf8(texts.back(), c);
    if (++in_text % 3 == 0) append_utf8(texts.back(), 0x3A3);
    if (in_text == 96) {
      texts.emplace_back();
      in_text = 0;
    }
  }
  return texts;
}

TEST(DsirWords, EqualPythonsOnUnicodeText) {
  if (!have_numpy()) GTEST_SKIP() << kPython << " lacks numpy for the reference";
  std::vector<std::string> texts = unicode_texts(400, 11);
  const std::vector<std::string> all = every_code_point();
  texts.insert(texts.end(), all.begin(), all.end());
  const nlohmann::json want = reference("words", texts);
  ASSERT_EQ(want.size(), texts.size());
  int mismatches = 0;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const auto expected = want[i].get<std::vector<std::string>>();
    if (dsir_words(texts[i]) != expected) {
      ADD_FAILURE() << "text " << i << ": " << texts[i];
      if (++mismatches > 5) break;
    }
  }
  EXPECT_EQ(mismatches, 0);
}

TEST(DsirReference, WeightsEqualANumpyDsirOnAToyPool) {
  if (!have_numpy()) GTEST_SKIP() << kPython << " lacks numpy for the reference";
  const std::vector<std::string> domain = toy_texts(12, 1, true), pool = toy_texts(80, 2, false);
  DsirOptions paper;  // DSIR's defaults: 10,000 buckets, unigrams and bigrams
  DsirOptions small;
  small.buckets = 97;  // collisions on purpose
  small.ngram = 3;
  small.target_smoothing = 0.5;
  small.min_words = 5;
  for (const DsirOptions& o : {paper, small}) {
    SCOPED_TRACE(o.buckets);
    const nlohmann::json want = reference("weights", {{"domain", domain},
                                                      {"pool", pool},
                                                      {"buckets", o.buckets},
                                                      {"ngram", o.ngram},
                                                      {"smoothing", o.target_smoothing},
                                                      {"min_words", o.min_words}});
    const auto target = dsir_bucket_totals(dsir_featurize(views(domain), o), o.buckets);
    const auto features = dsir_featurize(views(pool), o);
    const auto raw = dsir_bucket_totals(features, o.buckets);
    EXPECT_EQ(target, want["target_totals"].get<std::vector<std::int64_t>>());
    EXPECT_EQ(raw, want["raw_totals"].get<std::vector<std::int64_t>>());
    const DsirModel m = fit_dsir(target, raw, o);
    const auto ratio = want["log_ratio"].get<std::vector<double>>();
    for (std::size_t b = 0; b < ratio.size(); ++b) EXPECT_NEAR(m.log_ratio[b], ratio[b], 1e-12 * (1 + std::abs(ratio[b])));
    const std::vector<double> w = dsir_log_weights(features, m, o);
    int filtered = 0;
    for (std::size_t i = 0; i < pool.size(); ++i) {
      const nlohmann::json& r = want["log_weights"][i];
      if (r.is_null()) {
        EXPECT_EQ(w[i], -std::numeric_limits<double>::infinity()) << i;
        ++filtered;
      } else {
        EXPECT_NEAR(w[i], r.get<double>(), 1e-9 * (1 + std::abs(r.get<double>()))) << i;
      }
    }
    EXPECT_EQ(filtered > 0, o.min_words > 0);
  }
}

TEST(DsirHandCase, UnigramWeightsOfAThreeDocumentPool) {
  // Domain "a a"; pool "a", "b", "a b". Target p(a) = 1, p(b) = 0; raw p(a) = p(b) = 1/2.
  DsirOptions o;
  o.ngram = 1;
  ASSERT_NE(dsir_bucket("a", o.buckets), dsir_bucket("b", o.buckets));
  const std::vector<std::string> domain = {"A a"}, pool = {"a", "b", "a b"};
  const auto features = dsir_featurize(views(pool), o);
  const DsirModel m =
      fit_dsir(dsir_bucket_totals(dsir_featurize(views(domain), o), o.buckets), dsir_bucket_totals(features, o.buckets), o);
  const double la = std::log(1 + 1e-8) - std::log(0.5 + 1e-8), lb = std::log(1e-8) - std::log(0.5 + 1e-8);
  const std::vector<double> w = dsir_log_weights(features, m, o);
  EXPECT_DOUBLE_EQ(w[0], la);
  EXPECT_DOUBLE_EQ(w[1], lb);
  EXPECT_DOUBLE_EQ(w[2], la + lb);
  EXPECT_EQ(m.target_ngrams, 2);
  EXPECT_EQ(m.raw_ngrams, 4);
  EXPECT_EQ(top_m(dsir_scores(w, {0, 1, 2}, DsirResample::top_k, 0), {0, 1, 2}, 3), (std::vector<std::size_t>{0, 2, 1}));
}

TEST(DsirHandCase, TheOnTopicDocumentRanksFirst) {
  DsirOptions o;
  const std::vector<std::string> domain = {"The patient's blood pressure and heart rate.",
                                           "High blood pressure strains the heart."};
  const std::vector<std::string> pool = {"The stock market fell sharply today.", "Blood pressure and the heart.",
                                         "A cat sat on the mat."};
  const auto features = dsir_featurize(views(pool), o);
  const DsirModel m =
      fit_dsir(dsir_bucket_totals(dsir_featurize(views(domain), o), o.buckets), dsir_bucket_totals(features, o.buckets), o);
  const std::vector<double> w = dsir_log_weights(features, m, o);
  EXPECT_GT(w[1], w[0]);
  EXPECT_GT(w[1], w[2]);
  EXPECT_EQ(top_m(dsir_scores(w, {0, 1, 2}, DsirResample::top_k, 0), {0, 1, 2}, 1), std::vector<std::size_t>{1});
  // min_words filters: the pool's texts have 7, 6 and 7 words.
  o.min_words = 7;
  const std::vector<double> f = dsir_log_weights(features, m, o);
  EXPECT_EQ(f[1], -std::numeric_limits<double>::infinity());
  EXPECT_EQ(f[0], w[0]);
}

TEST(DsirFeaturize, SameForAnyThreadCountAndShardSplit) {
  DsirOptions o;
  const std::vector<std::string> pool = toy_texts(301, 5, false), domain = toy_texts(20, 6, true);
  const auto one = dsir_featurize(views(pool), o, 1);
  for (int threads : {2, 3, 8, 0}) {
    const auto many = dsir_featurize(views(pool), o, threads);
    ASSERT_EQ(many.size(), one.size());
    for (std::size_t i = 0; i < one.size(); ++i) {
      EXPECT_EQ(many[i].buckets, one[i].buckets);
      EXPECT_EQ(many[i].counts, one[i].counts);
      EXPECT_EQ(many[i].words, one[i].words);
    }
  }
  // Ranks featurise contiguous ranges; their totals add up to the pool's.
  const auto all = dsir_bucket_totals(one, o.buckets);
  std::vector<std::int64_t> sum(static_cast<std::size_t>(o.buckets), 0);
  const std::vector<std::size_t> cuts = {0, 17, 150, 151, 301};
  std::vector<double> pieces;
  for (std::size_t p = 0; p + 1 < cuts.size(); ++p) {
    const std::vector<std::string> part(pool.begin() + cuts[p], pool.begin() + cuts[p + 1]);
    const auto t = dsir_bucket_totals(dsir_featurize(views(part), o, 2), o.buckets);
    for (std::size_t b = 0; b < t.size(); ++b) sum[b] += t[b];
  }
  EXPECT_EQ(sum, all);
  const DsirModel m = fit_dsir(dsir_bucket_totals(dsir_featurize(views(domain), o), o.buckets), all, o);
  const std::vector<double> whole = dsir_log_weights(one, m, o);
  for (std::size_t p = 0; p + 1 < cuts.size(); ++p) {
    const std::vector<std::string> part(pool.begin() + cuts[p], pool.begin() + cuts[p + 1]);
    const std::vector<double> w = dsir_log_weights(dsir_featurize(views(part), o, 3), m, o);
    for (std::size_t i = 0; i < w.size(); ++i) EXPECT_EQ(w[i], whole[cuts[p] + i]);  // bitwise
  }
}

TEST(DsirScores, GumbelSampleChangesWithTheSeedNeverWithTheSplit) {
  const int n = 1000;
  std::vector<double> logw(n);
  std::vector<std::int64_t> records(n);
  for (int i = 0; i < n; ++i) {
    records[i] = 5000 + 3 * i;
    logw[i] = std::log(1.0 + i % 17);
  }
  EXPECT_EQ(dsir_scores(logw, records, DsirResample::top_k, 9), logw);
  const auto sample = [&](std::uint64_t seed) {
    const std::vector<double> s = dsir_scores(logw, records, DsirResample::gumbel, seed);
    std::vector<std::int64_t> picked;
    for (std::size_t i : top_m(s, records, 100)) picked.push_back(records[i]);
    return picked;
  };
  EXPECT_EQ(sample(1), sample(1));
  EXPECT_NE(sample(1), sample(2));
  // Scored in pieces, in reverse order: every record keeps its score.
  const std::vector<double> whole = dsir_scores(logw, records, DsirResample::gumbel, 1);
  for (int first : {0, 333, 777}) {
    const int last = first == 0 ? 333 : first == 333 ? 777 : n;
    std::vector<double> lw;
    std::vector<std::int64_t> rec;
    for (int i = last - 1; i >= first; --i) {
      lw.push_back(logw[i]);
      rec.push_back(records[i]);
    }
    const std::vector<double> s = dsir_scores(lw, rec, DsirResample::gumbel, 1);
    for (std::size_t i = 0; i < s.size(); ++i) EXPECT_EQ(s[i], whole[last - 1 - static_cast<int>(i)]);
  }
  // Weight zero is never drawn.
  logw[0] = -std::numeric_limits<double>::infinity();
  EXPECT_EQ(dsir_scores(logw, records, DsirResample::gumbel, 3)[0], -std::numeric_limits<double>::infinity());
}

TEST(DsirGumbel, InclusionFrequenciesFollowTheWeights) {
  // Over S seeds, how often each item is among the top k of log w + G. For
  // k = 1 the law is w_i / W; for k = 2 it is Plackett-Luce's
  // P(i in top 2) = w_i / W + sum_{j != i} (w_j / W) (w_i / (W - w_j)).
  // Each frequency is within 6 binomial standard deviations of its law, which
  // fails by chance with probability below 2e-9 per item: 10 items, < 1e-7.
  const std::vector<double> w = {1, 2, 3, 4, 10};
  double total = 0;
  for (double x : w) total += x;
  std::vector<double> logw;
  for (double x : w) logw.push_back(std::log(x));
  const std::vector<std::int64_t> records = {7, 1, 90, 3, 12};
  const int seeds = 200000;
  for (std::int64_t k : {1, 2}) {
    std::vector<int> hits(w.size(), 0);
    for (int s = 0; s < seeds; ++s)
      for (std::size_t i : top_m(gumbel_perturbed(logw, records, static_cast<std::uint64_t>(s)), records, k))
        ++hits[i];
    for (std::size_t i = 0; i < w.size(); ++i) {
      double p = w[i] / total;
      if (k == 2)
        for (std::size_t j = 0; j < w.size(); ++j)
          if (j != i) p += w[j] / total * w[i] / (total - w[j]);
      const double sd = std::sqrt(p * (1 - p) / seeds);
      EXPECT_NEAR(static_cast<double>(hits[i]) / seeds, p, 6 * sd) << "k " << k << " item " << i;
    }
  }
}

TEST(DsirGumbel, NoiseIsAStandardGumbelKeyedBySeedAndRecord) {
  EXPECT_EQ(gumbel_noise(4, 17), gumbel_noise(4, 17));
  EXPECT_NE(gumbel_noise(4, 17), gumbel_noise(5, 17));
  EXPECT_NE(gumbel_noise(4, 17), gumbel_noise(4, 18));
  // Mean (Euler-Mascheroni constant) and variance (pi^2 / 6) over 10^5 records:
  // the standard error of the mean is 0.0041, of the variance about 0.017.
  double sum = 0, sq = 0;
  const int n = 100000;
  for (int r = 0; r < n; ++r) {
    const double g = gumbel_noise(1, r);
    ASSERT_TRUE(std::isfinite(g));
    sum += g;
    sq += g * g;
  }
  const double mean = sum / n, var = sq / n - mean * mean;
  EXPECT_NEAR(mean, 0.5772156649, 6 * 0.0041);
  const double pi = std::acos(-1.0);
  EXPECT_NEAR(var, pi * pi / 6, 6 * 0.017);
}

TEST(DsirErrors, OptionsAndEmptyModels) {
  DsirOptions o;
  o.ngram = 0;
  EXPECT_NE(error_of<UsageError>([&] { dsir_features("x", o); }).find("n-gram order"), std::string::npos);
  DsirOptions d;
  const std::vector<std::int64_t> zero(static_cast<std::size_t>(d.buckets), 0);
  std::vector<std::int64_t> one = zero;
  one[3] = 1;
  EXPECT_NE(error_of<InputError>([&] { fit_dsir(one, zero, d); }).find("candidate pool has no words"),
            std::string::npos);
  EXPECT_NE(error_of<InputError>([&] { fit_dsir(zero, one, d); }).find("domain texts have no words"),
            std::string::npos);
  d.target_smoothing = 1;
  EXPECT_NO_THROW(fit_dsir(zero, one, d));
}

}  // namespace
