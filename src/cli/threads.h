#pragma once

namespace ntks::dist {
class Communicator;
}

namespace ntks::cli {

/// Gives each rank on a node its share of the cores for torch's intra-op
/// threads, unless OMP_NUM_THREADS says otherwise: two ranks each running
/// all-core GEMMs on the same cores would slow both down.
void configure_threads(const dist::Communicator& comm);
/// The same for a process outside any job (`--blas-info`): all the cores.
void configure_threads(int ranks_on_node = 1);

}  // namespace ntks::cli
