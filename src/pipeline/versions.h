#pragma once
// What computed a run's files (private to src/pipeline): the "versions" object
// of the run and stage manifests, which the report shows.

#include <nlohmann/json.hpp>

namespace ntks::pipeline::detail {

/// {"ntk-select": ..., "libtorch": ..., "blas": "OpenBLAS 0.3.21 core SkylakeX (...)"}.
/// Not part of any identity: the same run on other kernels stays up to date.
nlohmann::json software_versions();

}  // namespace ntks::pipeline::detail
