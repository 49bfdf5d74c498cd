#pragma once

#include <string>

namespace ntks::store {

/// Version of the HDF5 library in use ("1.10.8").
std::string hdf5_version();

}  // namespace ntks::store
