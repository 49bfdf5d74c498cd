#pragma once

#include <string>

namespace ntks::cli {

/// The text of `ntk-select --build-info`: versions and which GPU paths are built.
std::string build_info_text();

}  // namespace ntks::cli
