// Built without NTKS_WITH_NCCL (CMake compiles this file or communicator_nccl.cpp): the NCCL backend is absent and says so.

#include "ntks/dist/communicator.h"
#include "ntks/util/error.h"

namespace ntks::dist {

bool nccl_available() { return false; }
std::string nccl_version() { return ""; }

std::unique_ptr<Communicator> make_nccl(std::unique_ptr<Communicator>, int) {
  throw DistError("this ntk-select was built without NCCL (configure with -DNTKS_WITH_NCCL=ON and a CUDA LibTorch)");
}

}  // namespace ntks::dist
