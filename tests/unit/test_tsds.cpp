// TSDS's scoring core (select/tsds.h): hand-computed pools where the KDE term
// and the alignment-diversity trade-off decide, an independent brute-force
// numpy TSDS (tests/scripts/tsds_reference.py) on toy pools in four regimes,
// results independent of blocking and of how the prefetch is split, and the
// sampler's scores.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <numeric>

#include "ntks/select/shuffle.h"
#include "ntks/select/topk.h"
#include "ntks/select/tsds.h"
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

const std::string kTsdsReference = ntks::testing::test_script("tsds_reference.py");

// Standard normal numbers from splitmix64 (Box-Muller).
struct Normal {
  SplitMix64 g;
  explicit Normal(std::uint64_t seed) : g(seed) {}
  double uniform() { return (static_cast<double>(g.next() >> 11) + 0.5) * 0x1.0p-53; }
  double operator()() { return std::sqrt(-2 * std::log(uniform())) * std::cos(2 * std::acos(-1.0) * uniform()); }
};

// Candidates around a few centres, some of them exact copies of others (the
// near-duplicates the KDE term is for); queries near some of the centres.
struct ToyPool {
  std::int64_t nq, n, dim;
  std::vector<float> queries, candidates;
};

ToyPool toy_pool(std::int64_t nq, std::int64_t n, std::int64_t dim, double spread, double scale, std::uint64_t seed) {
  Normal z(seed);
  const int centres = 5;
  std::vector<double> c(static_cast<std::size_t>(centres * dim));
  for (double& x : c) x = scale * z();
  ToyPool p{nq, n, dim, {}, {}};
  for (std::int64_t i = 0; i < n; ++i) {
    if (i >= 10 && z.g.below(6) == 0) {  // a copy of an earlier candidate
      const std::int64_t src = static_cast<std::int64_t>(z.g.below(static_cast<std::uint64_t>(i)));
      const std::vector<float> copy(p.candidates.begin() + src * dim, p.candidates.begin() + (src + 1) * dim);
      p.candidates.insert(p.candidates.end(), copy.begin(), copy.end());
      continue;
    }
    const std::int64_t k = static_cast<std::int64_t>(z.g.below(centres));
    for (std::int64_t j = 0; j < dim; ++j) p.candidates.push_back(static_cast<float>(c[k * dim + j] + spread * z()));
  }
  for (std::int64_t i = 0; i < nq; ++i) {
    const std::int64_t k = i % 2;  // the domain: two of the centres
    for (std::int64_t j = 0; j < dim; ++j) p.queries.push_back(static_cast<float>(c[k * dim + j] + spread * z()));
  }
  return p;
}

nlohmann::json reference(const ToyPool& p, const TsdsOptions& o) {
  TempDir dir;
  std::ofstream(dir.file("queries.f32"), std::ios::binary)
      .write(reinterpret_cast<const char*>(p.queries.data()), static_cast<std::streamsize>(p.queries.size() * 4));
  std::ofstream(dir.file("candidates.f32"), std::ios::binary)
      .write(reinterpret_cast<const char*>(p.candidates.data()),
             static_cast<std::streamsize>(p.candidates.size() * 4));
  dir.write("spec.json", nlohmann::json{{"nq", p.nq},
                                        {"n", p.n},
                                        {"dim", p.dim},
                                        {"alpha", o.alpha},
                                        {"c", o.c},
                                        {"sigma", o.sigma},
                                        {"max_k", o.max_k},
                                        {"kde_k", o.kde_k},
                                        {"center", o.center},
                                        {"normalize", o.normalize}}
                             .dump());
  const auto r = run_command(kPython + " " + kTsdsReference + " " + dir.path().string());
  EXPECT_EQ(r.status, 0) << r.output;
  return nlohmann::json::parse(read_file(dir.file("reference.json")));
}

double sum(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); }

// Options for the one-dimensional hand cases: the positions as they are.
TsdsOptions on_a_line(double sigma) {
  TsdsOptions o;
  o.center = false;
  o.normalize = false;
  o.sigma = sigma;
  return o;
}

// One dimension: the query at 0, candidates at the given positions, then far
// ones at 100, 101, ... up to n.
TsdsResult line(const std::vector<float>& near, std::int64_t n, const TsdsOptions& o) {
  std::vector<float> c(near);
  for (std::int64_t i = static_cast<std::int64_t>(near.size()); i < n; ++i) c.push_back(100.0f + static_cast<float>(i));
  const float q = 0;
  return tsds_probabilities(&q, 1, c.data(), n, 1, o);
}

TEST(TsdsSizes, NeighbourhoodsAreCappedAtATenthOfThePool) {
  TsdsOptions o;
  EXPECT_EQ(tsds_prefetch_size(5000, o), 500);
  EXPECT_EQ(tsds_kde_size(5000, o), 500);
  EXPECT_EQ(tsds_prefetch_size(1000000, o), 5000);
  EXPECT_EQ(tsds_kde_size(1000000, o), 1000);
  EXPECT_EQ(tsds_prefetch_size(3, o), 2);  // the transport reads one neighbour past the last it fills
  EXPECT_EQ(tsds_prefetch_size(2, o), 2);
  EXPECT_EQ(tsds_kde_size(3, o), 1);
}

TEST(TsdsHandCase, TheKdeTermMovesMassOffNearDuplicates) {
  // Candidates A1 = A2 at distance 1 (copies), B at 1.2, C at 5; 36 far ones, so
  // K = 4 and the lists hold A1, A2, B, C. sigma 0.1: kde(A) = 2, kde(B) = kde(C) = 1.
  // Breakpoints 1/2, 1, 2; costs after them 0, 0.2, 5 * 2 - 2.2 = 7.8, and
  // alpha / C * 7.8 = 0.78 >= 0.5 stops at s = 2 with A1, A2 at their cap
  // 1/(s kde) = 1/4 and B taking the rest, 1/2.
  TsdsOptions o = on_a_line(0.1);
  const std::vector<float> near = {1.0f, 1.0f, 1.2f, 5.0f};
  const TsdsResult kde = line(near, 40, o);
  EXPECT_EQ(kde.k, 4);
  EXPECT_EQ(kde.prefetched, 4);
  EXPECT_DOUBLE_EQ(kde.s, 2.0);
  EXPECT_NEAR(kde.probs[0], 0.25, 1e-15);
  EXPECT_NEAR(kde.probs[1], 0.25, 1e-15);
  EXPECT_NEAR(kde.probs[2], 0.5, 1e-15);
  EXPECT_EQ(kde.probs[3], 0.0);
  EXPECT_EQ(kde.support, 3);
  // Without the KDE: breakpoints 1, 2, 3, costs 0, 0.4, 15 - 3.2 = 11.8: stops at s = 3, a third each.
  o.sigma = 0;
  const TsdsResult flat = line(near, 40, o);
  EXPECT_DOUBLE_EQ(flat.s, 3.0);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(flat.probs[i], 1.0 / 3, 1e-15);
  EXPECT_EQ(flat.probs[3], 0.0);
}

TEST(TsdsHandCase, AlphaTradesAlignmentForDiversity) {
  TsdsOptions o = on_a_line(0);
  const std::vector<float> near = {1.0f, 2.0f, 3.0f, 4.0f};
  // alpha = 1: alignment only, the whole mass to the nearest candidate.
  o.alpha = 1;
  const TsdsResult align = line(near, 40, o);
  EXPECT_EQ(align.probs[0], 1.0);
  EXPECT_EQ(align.support, 1);
  // alpha = 0: diversity only, never stops: the first K - 1 = 3 get a third each.
  o.alpha = 0;
  const TsdsResult spread = line(near, 40, o);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(spread.probs[i], 1.0 / 3, 1e-15);
  EXPECT_EQ(spread.probs[3], 0.0);
  // C = 5, alpha = 0.5: costs 1 (s = 1), 3 (s = 2), 6 (s = 3) cross 5 at s = 3:
  // the first two take 1/3 each, the third the remaining 1/3.
  o.alpha = 0.5;
  const TsdsResult mid = line(near, 40, o);
  EXPECT_DOUBLE_EQ(mid.s, 3.0);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(mid.probs[i], 1.0 / 3, 1e-15);
  // C = 1.5: alpha / C * 3 = 1 >= 0.5 stops at s = 2: 1/2, 1/2.
  o.c = 1.5;
  const TsdsResult early = line(near, 40, o);
  EXPECT_DOUBLE_EQ(early.s, 2.0);
  EXPECT_NEAR(early.probs[0], 0.5, 1e-15);
  EXPECT_NEAR(early.probs[1], 0.5, 1e-15);
  EXPECT_EQ(early.probs[2], 0.0);
}

TEST(TsdsReference, ProbabilitiesEqualABruteForceNumpyTsds) {
  if (run_command(kPython + " -c 'import numpy'").status != 0) GTEST_SKIP() << kPython << " lacks numpy";
  struct Case {
    const char* name;
    TsdsOptions o;
    std::int64_t dim;
    double spread, scale;
    bool stops;  // the trade-off condition is met before the lists run out
  };
  std::vector<Case> cases(6);
  cases[0] = {"defaults", TsdsOptions{}, 16, 1.0, 1.0, false};  // unit vectors: gaps too small to stop at K = 25
  cases[1] = {"raw embeddings", TsdsOptions{}, 8, 0.3, 1.5, true};
  cases[1].o.center = false;
  cases[1].o.normalize = false;
  cases[1].o.sigma = 0.5;
  cases[1].o.c = 2;
  cases[2] = {"no kde", TsdsOptions{}, 16, 1.0, 1.0, true};
  cases[2].o.sigma = 0;
  cases[2].o.alpha = 0.8;
  cases[2].o.c = 0.5;
  cases[3] = {"kde, small C", TsdsOptions{}, 4, 0.3, 1.0, true};
  cases[3].o.c = 0.1;
  cases[3].o.sigma = 0.2;
  cases[4] = {"diversity only", TsdsOptions{}, 8, 0.15, 1.0, false};
  cases[4].o.alpha = 0;
  cases[4].o.kde_k = 7;
  cases[5] = {"alignment only", TsdsOptions{}, 8, 0.3, 1.0, true};  // stops at the first breakpoint
  cases[5].o.alpha = 1;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const ToyPool p = toy_pool(6, 250, c.dim, c.spread, c.scale, 21);
    const TsdsResult got = tsds_probabilities(p.queries.data(), p.nq, p.candidates.data(), p.n, p.dim, c.o);
    const nlohmann::json want = reference(p, c.o);
    EXPECT_EQ(got.k, want["k"].get<std::int64_t>());
    EXPECT_EQ(got.kde_k, want["kde_k"].get<std::int64_t>());
    EXPECT_EQ(got.prefetched, want["prefetched"].get<std::int64_t>());
    EXPECT_NEAR(got.s, want["s"].get<double>(), 1e-12 * want["s"].get<double>());
    const auto probs = want["probs"].get<std::vector<double>>();
    ASSERT_EQ(probs.size(), got.probs.size());
    for (std::size_t i = 0; i < probs.size(); ++i) EXPECT_NEAR(got.probs[i], probs[i], 1e-12) << "candidate " << i;
    EXPECT_NEAR(sum(got.probs), 1.0, 1e-12);
    const auto last = want["last"].get<std::vector<std::int64_t>>();
    EXPECT_EQ(std::any_of(last.begin(), last.end(), [&](std::int64_t t) { return t < got.k - 2; }), c.stops);
    EXPECT_GE(got.support, c.o.alpha == 1 ? 1 : p.nq);
  }
}

TEST(TsdsDeterminism, SameProbabilitiesForAnyBlockingOrPrefetchSplit) {
  const ToyPool p = toy_pool(5, 400, 6, 0.2, 1.0, 3);
  TsdsOptions o;
  const TsdsResult base = tsds_probabilities(p.queries.data(), p.nq, p.candidates.data(), p.n, p.dim, o);
  for (std::int64_t rows : {16, 399}) {
    o.block_rows = rows;
    EXPECT_EQ(tsds_probabilities(p.queries.data(), p.nq, p.candidates.data(), p.n, p.dim, o).probs, base.probs)
        << rows;  // bitwise
  }
  // The prefetch of ranges merged (as ranks would) is the prefetch of the whole.
  const std::vector<double> mean = tsds_mean(p.candidates.data(), p.n, p.dim);
  const std::vector<float> q = tsds_prepared(p.queries.data(), p.nq, p.dim, mean, true, "query");
  const std::vector<float> c = tsds_prepared(p.candidates.data(), p.n, p.dim, mean, true, "candidate");
  const Neighbors whole = tsds_prefetch(q.data(), p.nq, c.data(), p.n, p.dim, base.k);
  std::vector<Neighbors> parts;
  const std::vector<std::int64_t> cuts = {0, 130, 131, 400};
  for (std::size_t part = 0; part + 1 < cuts.size(); ++part) {
    const std::int64_t first = cuts[part], n = cuts[part + 1] - first;
    KnnSearch s(q.data(), p.nq, p.dim, base.k);
    std::vector<std::int64_t> ids(static_cast<std::size_t>(n));
    std::iota(ids.begin(), ids.end(), first);
    s.add(c.data() + first * p.dim, n, ids.data(), first);
    parts.push_back(s.result());
  }
  const Neighbors merged = merge_neighbors(parts);
  EXPECT_EQ(merged.records, whole.records);
  EXPECT_EQ(merged.dist2, whole.dist2);
  // Densities of slices of the rows, concatenated, are the densities of all of them.
  const std::vector<double> all = tsds_densities(c.data(), p.n, p.dim, 40, 0.75);
  std::vector<double> slices;
  for (std::int64_t first : {0, 150, 151}) {
    const std::int64_t count = first == 0 ? 150 : first == 150 ? 1 : -1;
    const std::vector<double> d = tsds_densities(c.data(), p.n, p.dim, 40, 0.75, first, count, 33);
    slices.insert(slices.end(), d.begin(), d.end());
  }
  EXPECT_EQ(slices, all);
  EXPECT_GT(*std::max_element(all.begin(), all.end()), 1.5);  // the copies count each other
  // And the steps on their own give tsds_probabilities' result.
  const TsdsAssignment a = tsds_assign(merged, std::vector<double>(merged.rows.size(), 1.0), 0.5, 5.0);
  TsdsOptions flat;
  flat.sigma = 0;
  EXPECT_EQ(tsds_probs(merged, a, p.n),
            tsds_probabilities(p.queries.data(), p.nq, p.candidates.data(), p.n, p.dim, flat).probs);
}

TEST(TsdsScores, DistinctDrawsNeverOfProbabilityZero) {
  const ToyPool p = toy_pool(4, 300, 5, 0.2, 1.0, 8);
  const TsdsResult r = tsds_probabilities(p.queries.data(), p.nq, p.candidates.data(), p.n, p.dim, TsdsOptions{});
  std::vector<std::int64_t> records(static_cast<std::size_t>(p.n));
  std::iota(records.begin(), records.end(), 1000);
  const std::int64_t m = std::min<std::int64_t>(r.support, 10);
  ASSERT_GE(m, 5);
  const auto draw = [&](std::uint64_t seed) {
    std::vector<std::int64_t> picked;
    for (std::size_t i : top_m(tsds_scores(r.probs, records, seed), records, m)) {
      EXPECT_GT(r.probs[i], 0) << "seed " << seed;
      picked.push_back(records[i]);
    }
    return picked;
  };
  EXPECT_EQ(draw(1), draw(1));
  EXPECT_NE(draw(1), draw(2));
  const std::vector<double> s = tsds_scores(r.probs, records, 4);
  for (std::size_t i = 0; i < s.size(); ++i)
    if (r.probs[i] == 0) {
      EXPECT_EQ(s[i], -std::numeric_limits<double>::infinity());
    }
}

TEST(TsdsErrors, BadOptionsAndRowsAreNamed) {
  const ToyPool p = toy_pool(2, 30, 3, 0.2, 1.0, 1);
  TsdsOptions o;
  o.alpha = 1.5;
  EXPECT_NE(error_of<UsageError>([&] { tsds_probabilities(p.queries.data(), 2, p.candidates.data(), 30, 3, o); })
                .find("alpha must be in [0, 1], not 1.5"),
            std::string::npos);
  EXPECT_NE(error_of<UsageError>([&] { tsds_probabilities(p.queries.data(), 2, p.candidates.data(), 1, 3, {}); })
                .find("at least 2 candidates, got 1"),
            std::string::npos);
  std::vector<float> zero = p.candidates;
  std::fill(zero.begin() + 3 * 7, zero.begin() + 3 * 8, 0.0f);
  TsdsOptions raw;
  raw.center = false;
  EXPECT_NE(error_of<InputError>([&] { tsds_probabilities(p.queries.data(), 2, zero.data(), 30, 3, raw); })
                .find("candidate embedding row 7 has norm 0: it cannot be normalised"),
            std::string::npos);
  // Candidates in pairs c + v, c - v and two at c: c is their mean, exactly.
  std::vector<float> pairs;
  for (int k = 0; k < 14; ++k)
    for (float sign : {1.0f, -1.0f})
      pairs.insert(pairs.end(), {0.5f + sign * (k + 1), 0.25f - sign * k, -1.0f + sign * 0.5f * k});
  for (int i = 0; i < 2; ++i) pairs.insert(pairs.end(), {0.5f, 0.25f, -1.0f});
  EXPECT_NE(error_of<InputError>([&] { tsds_probabilities(p.queries.data(), 2, pairs.data(), 30, 3, {}); })
                .find("candidate embedding row 28 has norm 0 after centring"),
            std::string::npos);
}

}  // namespace
