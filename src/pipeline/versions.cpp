#include "versions.h"

#include "ntks/build_config.h"
#include "ntks/model/torch_info.h"
#include "ntks/util/blas_kernels.h"

namespace ntks::pipeline::detail {

nlohmann::json software_versions() {
  return {{"ntk-select", NTKS_VERSION},
          {"libtorch", model::torch_version()},
          {"blas", util::blas_kernels().describe()}};
}

}  // namespace ntks::pipeline::detail
