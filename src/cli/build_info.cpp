#include "build_info.h"

#include <fmt/format.h>

#include "ntks/build_config.h"
#include "ntks/dist/communicator.h"
#include "ntks/model/torch_info.h"
#include "ntks/select/faiss_info.h"
#include "ntks/store/hdf5_info.h"
#include "ntks/util/blas_kernels.h"

namespace ntks::cli {

std::string build_info_text() {
  auto on_off = [](bool b) { return b ? "on" : "off"; };
  std::string nccl = dist::nccl_available() ? "on (" + dist::nccl_version() + ")" : "off";
  std::string out;
  out += fmt::format("ntk-select  {} ({}, {})\n", NTKS_VERSION, NTKS_BUILD_TYPE, NTKS_COMPILER);
  out += fmt::format("LibTorch    {} (BLAS: {})\n", model::torch_version(), model::torch_blas());
  out += fmt::format("BLAS        {}\n", util::blas_kernels().describe());
  out += fmt::format("CUDA        {} (built: {})\n", model::cuda_summary(), on_off(NTKS_WITH_CUDA));
  out += fmt::format("NCCL        {}\n", nccl);
  out += fmt::format("Faiss       {} (GPU: {})\n", select::faiss_version(), on_off(select::faiss_gpu()));
  out += fmt::format("MPI         {}\n", dist::mpi_library_version());
  out += fmt::format("HDF5        {}\n", store::hdf5_version());
  return out;
}

}  // namespace ntks::cli
