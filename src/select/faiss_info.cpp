#include "ntks/select/faiss_info.h"

// Faiss 1.7 headers use uint8_t without including <cstdint> (GCC 13 no longer
// pulls it in transitively).
#include <cstdint>

#include <faiss/Index.h>

#include <fmt/format.h>

#include "ntks/build_config.h"

namespace ntks::select {

std::string faiss_version() {
  return fmt::format("{}.{}.{}", FAISS_VERSION_MAJOR, FAISS_VERSION_MINOR, FAISS_VERSION_PATCH);
}

bool faiss_gpu() { return NTKS_WITH_FAISS_GPU != 0; }

}  // namespace ntks::select
