// Every collective of the MPI backend, run by ctest with 1, 2 and 3 ranks.
// Expected values follow from rank and size alone.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "mpi_env.h"
#include "ntks/util/error.h"

using ntks::DistError;
using ntks::dist::ReduceOp;
using ntks::testing::comm;

namespace {

const std::vector<torch::ScalarType> kAllDtypes = {torch::kFloat32, torch::kFloat64, torch::kInt64, torch::kInt32,
                                                   torch::kBFloat16, torch::kFloat16, torch::kUInt8};

TEST(Collectives, RankSizeAndLocalRanks) {
  auto& c = comm();
  ASSERT_GE(c.rank(), 0);
  ASSERT_LT(c.rank(), c.size());
  EXPECT_LT(c.local_rank(), c.local_size());
  EXPECT_LE(c.local_size(), c.size());
  EXPECT_EQ(c.name(), "mpi");
  if (const char* env = std::getenv("OMPI_COMM_WORLD_SIZE")) EXPECT_EQ(c.size(), std::atoi(env));
  // All ranks run on this one machine in the tests.
  EXPECT_EQ(c.local_size(), c.size());
  auto r = torch::tensor({static_cast<int64_t>(c.rank())});
  c.allreduce(r, ReduceOp::sum);
  EXPECT_EQ(r.item<int64_t>(), c.size() * (c.size() - 1) / 2);
}

TEST(Collectives, BarrierSeparatesBeforeFromAfter) {
  auto& c = comm();
  namespace fs = std::filesystem;
  std::string dir = c.is_root() ? (fs::temp_directory_path() / ("ntks-barrier-" + std::to_string(::getpid()))).string()
                                : std::string();
  c.broadcast_bytes(dir, 0);
  if (c.is_root()) fs::create_directories(dir);
  c.barrier();
  std::ofstream(dir + "/" + std::to_string(c.rank())) << "x";
  c.barrier();
  for (int r = 0; r < c.size(); ++r) EXPECT_TRUE(fs::exists(dir + "/" + std::to_string(r))) << "rank " << r;
  c.barrier();
  if (c.is_root()) fs::remove_all(dir);
}

TEST(Collectives, BroadcastEveryDtypeFromEveryRoot) {
  auto& c = comm();
  for (auto dtype : kAllDtypes) {
    for (int root = 0; root < c.size(); ++root) {
      auto expected = (torch::arange(12) % 7 + root).reshape({3, 4}).to(dtype);
      auto t = c.rank() == root ? expected.clone() : torch::full({3, 4}, 99).to(dtype);
      c.broadcast(t, root);
      EXPECT_TRUE(t.equal(expected)) << c10::toString(dtype) << " root " << root;
    }
  }
}

TEST(Collectives, BroadcastIntoNonContiguousView) {
  auto& c = comm();
  auto base = c.is_root() ? torch::arange(6, torch::kFloat32).reshape({2, 3}) : torch::zeros({2, 3});
  auto view = base.t();  // non-contiguous
  c.broadcast(view, 0);
  EXPECT_TRUE(base.equal(torch::arange(6, torch::kFloat32).reshape({2, 3})));
}

TEST(Collectives, AllreduceSumEveryDtype) {
  auto& c = comm();
  const int n = c.size();
  for (auto dtype : kAllDtypes) {
    auto t = torch::full({5}, c.rank() + 1).to(dtype);
    c.allreduce(t, ReduceOp::sum);
    EXPECT_EQ(t.scalar_type(), dtype);
    EXPECT_TRUE(t.to(torch::kFloat64).eq(n * (n + 1) / 2.0).all().item<bool>()) << c10::toString(dtype);
  }
}

TEST(Collectives, AllreduceMaxIsElementwise) {
  auto& c = comm();
  auto t = torch::arange(4, torch::kFloat32) * c.rank() - c.rank();  // rank*(i-1)
  c.allreduce(t, ReduceOp::max);
  auto i = torch::arange(4, torch::kFloat32);
  // max over r in [0, n) of r*(i-1): (n-1)*(i-1) when i >= 1, else 0 (rank 0).
  auto expected = torch::where(i >= 1, (c.size() - 1) * (i - 1), torch::zeros_like(i));
  EXPECT_TRUE(t.equal(expected)) << t;
}

TEST(Collectives, AllreduceMeanFloatTypes) {
  auto& c = comm();
  for (auto dtype : {torch::kFloat32, torch::kFloat64, torch::kBFloat16}) {
    auto t = torch::full({3}, static_cast<double>(c.rank())).to(dtype);
    c.allreduce(t, ReduceOp::mean);
    double expected = (c.size() - 1) / 2.0;
    EXPECT_NEAR(t[0].item<double>(), expected, dtype == torch::kBFloat16 ? 1e-2 : 1e-12) << c10::toString(dtype);
  }
}

TEST(Collectives, AllreduceMeanOfIntegersThrows) {
  auto t = torch::ones({2}, torch::kInt64);
  EXPECT_THROW(comm().allreduce(t, ReduceOp::mean), DistError);
}

TEST(Collectives, AllreduceLargeTensor) {
  auto& c = comm();
  auto t = torch::ones({3'000'000}, torch::kFloat32) * (c.rank() + 1);
  c.allreduce(t, ReduceOp::sum);
  EXPECT_TRUE(t.eq(c.size() * (c.size() + 1) / 2.0f).all().item<bool>());
}

TEST(Collectives, MismatchedElementCountsThrowOnEveryRank) {
  auto& c = comm();
  if (c.size() == 1) GTEST_SKIP() << "needs two ranks to disagree";
  auto t = torch::ones({3 + c.rank()});
  EXPECT_THROW(c.allreduce(t, ReduceOp::sum), DistError);
  EXPECT_THROW(c.broadcast(t, 0), DistError);
}

TEST(Collectives, GathervRowsDifferPerRankIncludingNone) {
  auto& c = comm();
  const int r = c.rank(), n = c.size();
  // Rank r sends r rows (rank 0 none) of shape [2, 3], value 100*r + row.
  auto mine = (torch::arange(r, torch::kFloat32) + 100 * r).reshape({r, 1, 1}).expand({r, 2, 3}).contiguous();
  for (int root = 0; root < n; ++root) {
    auto all = c.gatherv(mine, root);
    if (r != root) {
      EXPECT_FALSE(all.defined());
      continue;
    }
    ASSERT_EQ(all.dim(), 3);
    ASSERT_EQ(all.size(0), n * (n - 1) / 2);
    EXPECT_EQ(all.size(1), 2);
    EXPECT_EQ(all.size(2), 3);
    int64_t row = 0;
    for (int src = 0; src < n; ++src)
      for (int k = 0; k < src; ++k, ++row)
        EXPECT_TRUE(all[row].eq(100.0f * src + k).all().item<bool>()) << "row " << row;
  }
}

TEST(Collectives, GathervOneDimensionalInt64) {
  auto& c = comm();
  auto ids = torch::full({2}, static_cast<int64_t>(c.rank()), torch::kInt64);
  auto all = c.gatherv(ids, 0);
  if (c.is_root()) {
    auto expected = torch::arange(c.size(), torch::kInt64).repeat_interleave(2);
    EXPECT_TRUE(all.equal(expected)) << all;
  }
}

TEST(Collectives, GathervTrailingShapeMismatchThrows) {
  auto& c = comm();
  if (c.size() == 1) GTEST_SKIP() << "needs two ranks to disagree";
  auto t = torch::zeros({1, 2 + c.rank()});
  EXPECT_THROW(c.gatherv(t, 0), DistError);
}

TEST(Collectives, GathervBytesKeepsBinaryContentAndOrder) {
  auto& c = comm();
  std::string mine(static_cast<size_t>(c.rank()) * 1000, static_cast<char>('a' + c.rank()));
  if (!mine.empty()) mine[0] = '\0';
  auto all = c.gatherv_bytes(mine, 0);
  if (!c.is_root()) {
    EXPECT_TRUE(all.empty());
    return;
  }
  ASSERT_EQ(all.size(), static_cast<size_t>(c.size()));
  for (int r = 0; r < c.size(); ++r) {
    std::string expected(static_cast<size_t>(r) * 1000, static_cast<char>('a' + r));
    if (!expected.empty()) expected[0] = '\0';
    EXPECT_EQ(all[r], expected) << "rank " << r;
  }
}

TEST(Collectives, BroadcastBytesFromEveryRoot) {
  auto& c = comm();
  for (int root = 0; root < c.size(); ++root) {
    for (size_t len : {size_t{0}, size_t{1}, size_t{1} << 20}) {
      std::string expected(len, static_cast<char>('A' + root));
      std::string s = c.rank() == root ? expected : std::string("stale");
      c.broadcast_bytes(s, root);
      EXPECT_EQ(s, expected) << "root " << root << " len " << len;
    }
  }
}

TEST(Collectives, RootOutsideTheJobThrows) {
  auto& c = comm();
  auto t = torch::zeros({1});
  EXPECT_THROW(c.broadcast(t, c.size()), DistError);
  EXPECT_THROW(c.gatherv(t, -1), DistError);
  std::string s;
  EXPECT_THROW(c.broadcast_bytes(s, c.size()), DistError);
}

}  // namespace
