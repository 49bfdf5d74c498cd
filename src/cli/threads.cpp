#include "threads.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "ntks/dist/communicator.h"
#include "ntks/log/log.h"

namespace ntks::cli {

void configure_threads(const dist::Communicator& comm) {
  if (std::getenv("OMP_NUM_THREADS") != nullptr) return;
  int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int threads = std::max(1, cores / std::max(1, comm.local_size()));
  at::set_num_threads(threads);
  log::debug("{} torch threads ({} cores, {} ranks on this node)", threads, cores, comm.local_size());
}

}  // namespace ntks::cli
