#include "ntks/store/hdf5_info.h"

#include <hdf5.h>

#include <fmt/format.h>

namespace ntks::store {

std::string hdf5_version() {
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  return fmt::format("{}.{}.{}", major, minor, release);
}

}  // namespace ntks::store
