// Chooses the backend for this process.

#include <cstdlib>

#include "ntks/dist/communicator.h"

namespace ntks::dist {

bool launched_by_mpi_launcher() {
  // Open MPI's mpirun, PMIx (srun --mpi=pmix, prterun) and PMI-1/2 (srun
  // --mpi=pmi2, MPICH's hydra) each leave one of these in the environment.
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(var) != nullptr) return true;
  return false;
}

namespace {

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  long x = std::strtol(v, &end, 10);
  return *end == '\0' ? static_cast<int>(x) : fallback;
}

}  // namespace

LauncherRank launcher_rank() {
  LauncherRank r;
  r.rank = env_int("OMPI_COMM_WORLD_RANK", env_int("PMIX_RANK", env_int("PMI_RANK", env_int("SLURM_PROCID", 0))));
  r.size = env_int("OMPI_COMM_WORLD_SIZE", env_int("PMI_SIZE", env_int("SLURM_NTASKS", 1)));
  if (r.size < r.rank + 1) r.size = r.rank + 1;
  return r;
}

std::unique_ptr<Communicator> create(Backend backend) {
  switch (backend) {
    case Backend::local: return make_local();
    case Backend::mpi: return make_mpi();
    case Backend::auto_: break;
  }
  return launched_by_mpi_launcher() ? make_mpi() : make_local();
}

}  // namespace ntks::dist
