#include "threads.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "ntks/dist/communicator.h"
#include "ntks/log/log.h"

namespace ntks::cli {

void configure_threads(const dist::Communicator& comm) { configure_threads(comm.local_size()); }

void configure_threads(int ranks_on_node) {
  if (std::getenv("OMP_NUM_THREADS") != nullptr) return;
  int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int threads = std::max(1, cores / std::max(1, ranks_on_node));
  at::set_num_threads(threads);
  log::debug("{} torch threads ({} cores, {} ranks on this node)", threads, cores, ranks_on_node);
}

}  // namespace ntks::cli
