// The single-process backend: collectives are the identity, preconditions
// are still checked.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "ntks/dist/communicator.h"
#include "ntks/util/error.h"

using ntks::DistError;
using ntks::dist::ReduceOp;

namespace {

TEST(LocalCommunicator, IsOneRankAndCollectivesAreIdentity) {
  auto c = ntks::dist::make_local();
  EXPECT_EQ(c->rank(), 0);
  EXPECT_EQ(c->size(), 1);
  EXPECT_EQ(c->name(), "local");
  c->barrier();
  auto t = torch::arange(4, torch::kFloat32);
  c->allreduce(t, ReduceOp::sum);
  c->allreduce(t, ReduceOp::mean);
  c->allreduce(t, ReduceOp::max);
  c->broadcast(t, 0);
  EXPECT_TRUE(t.equal(torch::arange(4, torch::kFloat32)));
  auto g = c->gatherv(t.reshape({2, 2}), 0);
  EXPECT_TRUE(g.equal(t.reshape({2, 2})));
  g.fill_(7);  // a copy, not a view of the input
  EXPECT_EQ(t[0].item<float>(), 0);
  std::string s = "abc";
  c->broadcast_bytes(s, 0);
  EXPECT_EQ(s, "abc");
  EXPECT_EQ(c->gatherv_bytes("xyz", 0), std::vector<std::string>{"xyz"});
}

TEST(LocalCommunicator, RejectsWhatOtherBackendsReject) {
  auto c = ntks::dist::make_local();
  auto i = torch::ones({2}, torch::kInt64);
  EXPECT_THROW(c->allreduce(i, ReduceOp::mean), DistError);
  auto t = torch::ones({2});
  EXPECT_THROW(c->broadcast(t, 1), DistError);
  EXPECT_THROW(c->gatherv(torch::tensor(1.0), 0), DistError);
  at::Tensor undefined;
  EXPECT_THROW(c->allreduce(undefined, ReduceOp::sum), DistError);
}

TEST(DistFactory, AutoIsLocalWithoutALauncherAndNcclIsAbsentInCpuBuilds) {
  if (ntks::dist::launched_by_mpi_launcher()) GTEST_SKIP() << "running under an MPI launcher";
  EXPECT_EQ(ntks::dist::create(ntks::dist::Backend::auto_)->name(), "local");
  EXPECT_EQ(ntks::dist::launcher_rank().size, 1);
  if (!ntks::dist::nccl_available()) {
    EXPECT_THROW(ntks::dist::make_nccl(ntks::dist::make_local(), 0), DistError);
    EXPECT_EQ(ntks::dist::nccl_version(), "");
  }
}

}  // namespace
