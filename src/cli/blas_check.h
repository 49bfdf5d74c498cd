#pragma once
// The BLAS kernels a run computes with, told to the user: `--blas-info`, and
// a warning with the measured loss when they are slower than the CPU allows.

#include <string>

#include "ntks/dist/communicator.h"

namespace ntks::cli {

/// `ntk-select --blas-info`: the CPU, the OpenBLAS core and where it came
/// from, and the fp32 GEMM speed of this process. Its "gemm:" line is what
/// the warning below reads from a child process run on another core.
std::string blas_info_text();

/// With several ranks: rank 0 warns when they run different kernels (no
/// bitwise equality across rank counts then). And on each node's local rank 0, when OpenBLAS runs a core of a narrower class
/// than the CPU runs (a user's OPENBLAS_CORETYPE, or a failed re-exec): the
/// GEMM speed of this core against the better one, measured once per machine
/// and setting (a child process on the better core; cached in the user's
/// cache folder), in one warning with the fix. Quiet (debug) when the better
/// core measures less than 10% faster.
void warn_about_blas_kernels(dist::Communicator& comm);

}  // namespace ntks::cli
