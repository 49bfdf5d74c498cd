#pragma once

#include <string>

namespace ntks::select {

/// "1.7.3" from the Faiss headers this was built with.
std::string faiss_version();
/// Whether this build uses Faiss GPU indexes.
bool faiss_gpu();

}  // namespace ntks::select
