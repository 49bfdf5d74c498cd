#pragma once
// Shared by the MPI test suites: the job's communicator.

#include "dist/mpi_communicator.h"
#include "ntks/dist/communicator.h"

namespace ntks::testing {

dist::Communicator& comm();

}  // namespace ntks::testing
