// GoogleTest main for the MPI suites: one MPI communicator shared by all
// tests (MPI can be initialised once per process); only rank 0 prints the
// report, every rank's failures still set its exit code, which mpirun returns.

#include <gtest/gtest.h>

#include "mpi_env.h"
#include "ntks/log/log.h"
#include "ntks/util/blas_kernels.h"

namespace ntks::testing {

dist::Communicator* g_comm = nullptr;
dist::Communicator& comm() { return *g_comm; }

}  // namespace ntks::testing

int main(int argc, char** argv) {
  ntks::util::prefer_right_blas_kernels(argv);  // before MPI_Init, as the binary does
  ::testing::InitGoogleTest(&argc, argv);
  auto comm = ntks::dist::make_mpi();
  ntks::testing::g_comm = comm.get();
  ntks::log::set_rank(comm->rank(), comm->size());
  if (comm->rank() != 0) {
    // Keep failure messages from every rank, drop the per-test chatter.
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  int rc = RUN_ALL_TESTS();
  // A rank that fails must not leave the others blocked in MPI_Finalize's
  // implicit barrier forever: agree on the outcome first.
  long long failed = rc != 0;
  auto all = static_cast<ntks::dist::MpiCommunicator*>(comm.get())->allgather(failed);
  for (long long f : all) rc |= static_cast<int>(f);
  return rc;
}
