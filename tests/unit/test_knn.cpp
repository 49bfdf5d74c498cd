// Exact kNN (select/knn.h) against a brute-force double loop: random rows,
// integer rows full of exact ties and duplicates, any split into blocks and
// parts, IVF with every list probed (= flat) and with some (= brute force over
// the probed lists).

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <random>

#include "ntks/select/knn.h"
#include "ntks/select/relevance.h"

using namespace ntks::select;

namespace {

struct Data {
  std::int64_t dim = 0;
  std::vector<float> queries, base;
  std::vector<std::int64_t> records;  // base row i is record records[i] (not i: ties must follow the record)
  std::int64_t nq() const { return static_cast<std::int64_t>(queries.size()) / dim; }
  std::int64_t nb() const { return static_cast<std::int64_t>(base.size()) / dim; }
};

// Integer coordinates in [-range, range]: squared distances are exact small
// integers, so there are many exact ties; `dups` rows are copies of others.
Data make_data(std::int64_t nq, std::int64_t nb, std::int64_t dim, int range, std::int64_t dups, unsigned seed,
               bool integer = true) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> coord(-range, range);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Data d;
  d.dim = dim;
  auto value = [&] { return integer ? static_cast<float>(coord(rng)) : normal(rng) * 3.0f + 10.0f; };
  for (std::int64_t i = 0; i < nq * dim; ++i) d.queries.push_back(value());
  for (std::int64_t i = 0; i < nb * dim; ++i) d.base.push_back(value());
  for (std::int64_t i = 0; i < dups; ++i) {  // row i + 1 .. copies of earlier rows
    const std::int64_t from = static_cast<std::int64_t>(rng() % static_cast<unsigned>(nb / 2));
    const std::int64_t to = nb / 2 + static_cast<std::int64_t>(rng() % static_cast<unsigned>(nb / 2));
    std::copy_n(d.base.begin() + from * dim, dim, d.base.begin() + to * dim);
  }
  d.records.resize(static_cast<std::size_t>(nb));
  std::iota(d.records.begin(), d.records.end(), 1000);
  std::shuffle(d.records.begin(), d.records.end(), rng);
  return d;
}

// The naive reference: every pair, (distance, record) order, first k; rows
// where `allowed` says so (all when empty).
Neighbors brute_force(const Data& d, std::int64_t k, const std::vector<std::vector<char>>& allowed = {}) {
  Neighbors out(d.nq(), k);
  for (std::int64_t q = 0; q < d.nq(); ++q) {
    std::vector<std::tuple<double, std::int64_t, std::int64_t>> all;
    for (std::int64_t i = 0; i < d.nb(); ++i) {
      if (!allowed.empty() && !allowed[q][i]) continue;
      double s = 0;
      for (std::int64_t j = 0; j < d.dim; ++j) {
        const double x = static_cast<double>(d.queries[q * d.dim + j]) - d.base[i * d.dim + j];
        s += x * x;
      }
      all.emplace_back(s, d.records[i], i);
    }
    std::sort(all.begin(), all.end());
    for (std::int64_t i = 0; i < k && i < static_cast<std::int64_t>(all.size()); ++i) {
      out.dist2[q * k + i] = std::get<0>(all[i]);
      out.records[q * k + i] = std::get<1>(all[i]);
      out.rows[q * k + i] = std::get<2>(all[i]);
    }
  }
  return out;
}

void expect_same_neighbours(const Neighbors& a, const Neighbors& b, const std::string& what) {
  ASSERT_EQ(a.queries, b.queries) << what;
  ASSERT_EQ(a.k, b.k) << what;
  EXPECT_EQ(a.records, b.records) << what;
  EXPECT_EQ(a.rows, b.rows) << what;
  EXPECT_EQ(a.dist2, b.dist2) << what;
}

// The search over d.base given in blocks of the sizes `split` (repeated).
Neighbors search_in_blocks(const Data& d, std::int64_t k, std::int64_t block, const IvfCentroids* ivf = nullptr,
                           std::int64_t nprobe = 1, std::int64_t* retries = nullptr) {
  KnnSearch s(d.queries.data(), d.nq(), d.dim, k, ivf, nprobe);
  for (std::int64_t b = 0; b < d.nb(); b += block) {
    const std::int64_t n = std::min(block, d.nb() - b);
    s.add(d.base.data() + b * d.dim, n, d.records.data() + b, b);
  }
  if (retries) *retries = s.retries();
  return s.result();
}

}  // namespace

TEST(Knn, FlatEqualsBruteForceWithTiesAndDuplicates) {
  const Data d = make_data(41, 600, 6, 2, 60, 1);  // 5^6 points, 600 rows: many equal distances
  for (std::int64_t k : {1, 7, 30}) {
    const Neighbors want = brute_force(d, k);
    for (std::int64_t block : {600, 97, 13, 1})
      expect_same_neighbours(search_in_blocks(d, k, block), want, "k " + std::to_string(k) + " block " + std::to_string(block));
  }
}

TEST(Knn, FlatEqualsBruteForceOnRandomFloats) {
  const Data d = make_data(25, 700, 16, 0, 20, 2, /*integer=*/false);
  const Neighbors want = brute_force(d, 10);
  expect_same_neighbours(search_in_blocks(d, 10, 700), want, "one block");
  expect_same_neighbours(search_in_blocks(d, 10, 111), want, "blocks of 111");
}

TEST(Knn, KLargerThanABlockAndThanTheRowsSeen) {
  const Data d = make_data(9, 40, 3, 1, 5, 3);
  expect_same_neighbours(search_in_blocks(d, 25, 7), brute_force(d, 25), "k above the block size");
  // k above all rows: the tail stays empty (record -1, +inf)
  const Neighbors n = search_in_blocks(d, 50, 16);
  expect_same_neighbours(n, brute_force(d, 50), "k above the rows");
  EXPECT_EQ(n.records[49], -1);
}

TEST(Knn, DuplicateWallAtTheBoundaryIsResolvedByRecord) {
  // 200 copies of one row and a few others: Faiss proposes an arbitrary 26 of
  // the copies; the search must widen until it has them all and keep the
  // lowest records.
  Data d;
  d.dim = 4;
  d.queries = {0, 0, 0, 0, 1, 1, 1, 1};
  for (int i = 0; i < 230; ++i) {
    const float v = i < 200 ? 2.0f : static_cast<float>(i - 196);
    for (int j = 0; j < 4; ++j) d.base.push_back(v);
  }
  d.records.resize(230);
  std::iota(d.records.begin(), d.records.end(), 0);
  std::reverse(d.records.begin(), d.records.end());
  std::int64_t retries = 0;
  const Neighbors got = search_in_blocks(d, 5, 230, nullptr, 1, &retries);
  expect_same_neighbours(got, brute_force(d, 5), "duplicate wall");
  EXPECT_GT(retries, 0);
  EXPECT_EQ(got.records[0], 30);  // the copy with the lowest record (row 199)
}

TEST(Knn, PartsMergeToTheWhole) {
  const Data d = make_data(30, 500, 5, 2, 50, 4);
  const std::int64_t k = 12;
  const Neighbors whole = search_in_blocks(d, k, 500);
  for (int parts : {2, 3, 7}) {
    std::vector<Neighbors> lists;
    for (int p = 0; p < parts; ++p) {
      const std::int64_t b = d.nb() * p / parts, e = d.nb() * (p + 1) / parts;
      KnnSearch s(d.queries.data(), d.nq(), d.dim, k);
      s.add(d.base.data() + b * d.dim, e - b, d.records.data() + b, b);
      lists.push_back(neighbors_from_bytes(to_bytes(s.result())));  // through the wire format
    }
    expect_same_neighbours(merge_neighbors(lists), whole, std::to_string(parts) + " parts");
  }
}

TEST(Knn, IvfProbingEveryListEqualsFlat) {
  const Data d = make_data(20, 400, 6, 3, 40, 5);
  const IvfCentroids c = train_ivf(d.base.data(), 200, d.dim, 16);
  const Neighbors flat = brute_force(d, 9);
  expect_same_neighbours(search_in_blocks(d, 9, 400, &c, 16), flat, "nprobe = nlist, one block");
  expect_same_neighbours(search_in_blocks(d, 9, 61, &c, 16), flat, "nprobe = nlist, blocks of 61");
}

TEST(Knn, IvfEqualsBruteForceOverTheProbedLists) {
  const Data d = make_data(23, 500, 6, 3, 40, 6);
  const std::int64_t nlist = 20, nprobe = 3, k = 8;
  const IvfCentroids c = train_ivf(d.base.data(), 300, d.dim, nlist);
  // Reference: lists and probes by brute force, ties to the lower list.
  auto nearest_lists = [&](const float* x, std::int64_t count) {
    std::vector<std::pair<double, std::int64_t>> all;
    for (std::int64_t l = 0; l < nlist; ++l) all.emplace_back(exact_dist2(x, c.data.data() + l * d.dim, d.dim), l);
    std::sort(all.begin(), all.end());
    std::vector<std::int64_t> out;
    for (std::int64_t i = 0; i < count; ++i) out.push_back(all[i].second);
    return out;
  };
  std::vector<std::int64_t> list_of(static_cast<std::size_t>(d.nb()));
  for (std::int64_t i = 0; i < d.nb(); ++i) list_of[i] = nearest_lists(d.base.data() + i * d.dim, 1)[0];
  EXPECT_EQ(assign_to_lists(c, d.base.data(), d.nb()), list_of);
  std::vector<std::vector<char>> allowed(static_cast<std::size_t>(d.nq()), std::vector<char>(d.nb(), 0));
  for (std::int64_t q = 0; q < d.nq(); ++q) {
    const auto probes = nearest_lists(d.queries.data() + q * d.dim, nprobe);
    for (std::int64_t i = 0; i < d.nb(); ++i)
      allowed[q][i] = std::find(probes.begin(), probes.end(), list_of[i]) != probes.end();
  }
  const Neighbors want = brute_force(d, k, allowed);
  expect_same_neighbours(search_in_blocks(d, k, 500, &c, nprobe), want, "one block");
  expect_same_neighbours(search_in_blocks(d, k, 37, &c, nprobe), want, "blocks of 37");
}

// recall_at_k: the share of the exact lists' records found in the
// approximate lists of the queries they stand for; empty entries (-1) do not count.
TEST(Knn, RecallCountsTheExactNeighboursFound) {
  Neighbors approx(3, 3), exact(2, 3);
  approx.records = {5, 6, 7, /**/ 1, 2, 3, /**/ 9, 8, -1};
  exact.records = {3, 2, 4, /**/ 8, 9, -1};  // exact lists of approx's queries 1 and 2
  EXPECT_DOUBLE_EQ(recall_at_k(approx, {1, 2}, exact), 4.0 / 5.0);
  EXPECT_DOUBLE_EQ(recall_at_k(approx, {0, 2}, exact), 2.0 / 5.0);
  EXPECT_DOUBLE_EQ(recall_at_k(approx, {}, Neighbors(0, 3)), 1.0);
  EXPECT_THROW(recall_at_k(approx, {1}, exact), std::exception);
  // IVF against flat on clustered data: every list probed finds all.
  const Data d = make_data(20, 400, 6, 3, 40, 5);
  const IvfCentroids c = train_ivf(d.base.data(), 200, d.dim, 16);
  const Neighbors flat = brute_force(d, 9);
  std::vector<std::int64_t> rows(static_cast<std::size_t>(d.nq()));
  std::iota(rows.begin(), rows.end(), 0);
  EXPECT_DOUBLE_EQ(recall_at_k(search_in_blocks(d, 9, 400, &c, 16), rows, flat), 1.0);
  const double one_list = recall_at_k(search_in_blocks(d, 9, 400, &c, 1), rows, flat);
  EXPECT_LT(one_list, 1.0);
  EXPECT_GT(one_list, 0.0);
}

TEST(Knn, KMeansFindsSeparatedClustersAndIsRepeatable) {
  // Two tight clusters around (0,0) and (100,100); the start rows are one of each.
  std::vector<float> rows = {0, 0, 100, 100, 1, 0, 101, 100, 0, 1, 100, 101, -1, 0, 99, 100};
  const IvfCentroids c = train_ivf(rows.data(), 8, 2, 2);
  EXPECT_EQ(c.data, (std::vector<float>{0, 0.25f, 100, 100.25f}));
  const Data d = make_data(1, 300, 5, 4, 30, 7);
  EXPECT_EQ(train_ivf(d.base.data(), 300, 5, 12).data, train_ivf(d.base.data(), 300, 5, 12).data);
}

TEST(Relevance, CountsMeansAndOrderEqualANaiveTally) {
  const Data d = make_data(60, 300, 4, 2, 30, 8);
  const std::int64_t k = 6;
  const Neighbors n = search_in_blocks(d, k, 77);
  // Reference from the brute-force lists: map record -> (count, sum of distances).
  const Neighbors ref = brute_force(d, k);
  std::map<std::int64_t, std::pair<std::int64_t, double>> tally;
  for (std::size_t i = 0; i < ref.records.size(); ++i) {
    auto& t = tally[ref.records[i]];
    ++t.first;
    t.second += std::sqrt(ref.dist2[i]);
  }
  std::vector<std::tuple<std::int64_t, double, std::int64_t>> order;  // (-count, mean, record)
  for (const auto& [record, t] : tally) order.emplace_back(-t.first, t.second / t.first, record);
  std::sort(order.begin(), order.end());
  for (std::int64_t m : {std::int64_t{1}, std::int64_t{25}, static_cast<std::int64_t>(order.size()), std::int64_t{100000}}) {
    const Relevance r = rank_by_relevance(n, m);
    const std::size_t want = std::min<std::size_t>(static_cast<std::size_t>(m), order.size());
    ASSERT_EQ(r.records.size(), want) << m;
    EXPECT_EQ(r.with_count, static_cast<std::int64_t>(order.size()));
    for (std::size_t i = 0; i < want; ++i) {
      EXPECT_EQ(r.records[i], std::get<2>(order[i])) << i;
      EXPECT_EQ(r.counts[i], -std::get<0>(order[i])) << i;
      EXPECT_EQ(r.mean_distance[i], std::get<1>(order[i])) << i;
      const auto row = std::find(d.records.begin(), d.records.end(), r.records[i]) - d.records.begin();
      EXPECT_EQ(r.rows[i], row) << i;
    }
  }
}

TEST(Knn, ToleranceBoundsTheFloatComputation) {
  // |q|^2 + |c|^2 - 2 q.c in float32, as Faiss computes it, stays within the
  // tolerance of the exact value for vectors with a large common part.
  std::mt19937 rng(9);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const std::int64_t dim = 512;
  double worst = 0;
  for (int t = 0; t < 20; ++t) {
    std::vector<float> a(dim), b(dim);
    for (std::int64_t j = 0; j < dim; ++j) {
      a[j] = 50.0f + normal(rng);
      b[j] = 50.0f + normal(rng);
    }
    float na = 0, nb = 0, dot = 0;
    double norm_a = 0, norm_b = 0;
    for (std::int64_t j = 0; j < dim; ++j) {
      na += a[j] * a[j];
      nb += b[j] * b[j];
      dot += a[j] * b[j];
      norm_a += static_cast<double>(a[j]) * a[j];
      norm_b += static_cast<double>(b[j]) * b[j];
    }
    const double f = static_cast<double>(na + nb - 2 * dot);
    const double exact = exact_dist2(a.data(), b.data(), dim);
    EXPECT_LE(std::abs(f - exact), faiss_l2_tolerance(std::sqrt(norm_a), std::sqrt(norm_b), dim)) << t;
    worst = std::max(worst, std::abs(f - exact));
  }
  EXPECT_GT(worst, 0.0) << "the float path was exact: the test shows nothing";
}
