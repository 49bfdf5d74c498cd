// Test driver for the no-hang guarantee: rank 1 throws while every other
// rank waits in a collective. run_guarded must print the message once and
// end the whole job (see tests/scripts/abort_no_hang.sh).

#include <torch/torch.h>

#include <cstdlib>

#include "ntks/cli/app.h"
#include "ntks/dist/communicator.h"
#include "ntks/log/log.h"
#include "ntks/util/error.h"

int main() {
  auto comm = ntks::dist::create(ntks::dist::Backend::mpi);
  ntks::log::set_rank(comm->rank(), comm->size());
  return ntks::cli::run_guarded(comm.get(), [&] {
    const int failing = comm->size() > 1 ? 1 : 0;
    if (comm->rank() == failing) throw ntks::InputError("injected failure on rank 1: data.jsonl:7: bad JSON");
    auto t = torch::ones({4});
    comm->allreduce(t, ntks::dist::ReduceOp::sum);  // never completes: rank 1 is gone
    return 0;
  });
}
