#pragma once
// Which GEMM kernels the BLAS runs, and the right ones for this CPU.
//
// Debian's LibTorch does its fp32 GEMMs in the system OpenBLAS, a
// DYNAMIC_ARCH build that picks its kernels ("core") once, when the library
// loads, from the CPU's family and model numbers. A virtual machine that masks
// the model (cloud VMs, HPC containers) makes it fall back to Prescott's SSE3
// kernels: 5x slower GEMM on an AVX-512 Xeon. OPENBLAS_CORETYPE, read at load
// time, is the only way to choose; so a process that finds itself on a
// fallback core sets it and executes itself again (prefer_right_blas_kernels),
// before MPI or anything else has started. A value the user set always wins.
//
// The decision is a pure function of the CPU's features and the running core
// (choose_blas_core), tested with faked CPUs; cpuid and OpenBLAS are only read
// by detect_cpu() and running_blas_core().

#include <optional>
#include <string>
#include <string_view>

namespace ntks::util {

/// What cpuid (and xgetbv: the OS saves the wide registers) says of this CPU.
struct CpuFeatures {
  std::string vendor;  ///< "GenuineIntel", "AuthenticAMD", ...
  std::string brand;   ///< the model name, e.g. "Intel(R) Xeon(R) Processor" when masked
  int family = 0;      ///< display family (base + extended)
  int model = 0;       ///< display model (base + extended)
  bool fma = false;    ///< FMA3
  bool avx = false;    ///< AVX usable (CPU and OS)
  bool avx2 = false;   ///< AVX2 usable
  /// AVX-512 F, CD, BW, DQ and VL usable: what OpenBLAS's SkylakeX kernels are built for.
  bool avx512 = false;
  bool avx512_bf16 = false;  ///< AVX512_BF16 (OpenBLAS's Cooperlake adds bf16 kernels on it)
};

/// This CPU, from cpuid. On a non-x86 build: everything false.
CpuFeatures detect_cpu();
/// "AMD EPYC (AuthenticAMD family 26 model 2): AVX-512 with BF16"
std::string describe_cpu(const CpuFeatures& cpu);

/// Vector-width classes of GEMM kernels, slowest first.
enum class KernelTier { sse = 0, avx = 1, avx2 = 2, avx512 = 3 };
const char* tier_name(KernelTier tier);  ///< "SSE", "AVX", "AVX2", "AVX-512"

/// The widest class of kernels this CPU can run.
KernelTier cpu_tier(const CpuFeatures& cpu);
/// The class of an OpenBLAS core name (case-insensitive: "Prescott" -> sse,
/// "Zen" -> avx2, "Cooperlake" -> avx512); nullopt for a name we do not know.
std::optional<KernelTier> core_tier(std::string_view core);

/// The OPENBLAS_CORETYPE to run instead of `running_core` on `cpu`, or
/// nullopt when the running core is already of the CPU's widest class (or
/// unknown to us: then OpenBLAS knows better). AVX-512: Cooperlake where the
/// CPU has AVX512_BF16 (what OpenBLAS picks itself on such CPUs), else
/// SkylakeX; AVX2 with FMA: Haswell; AVX: Sandybridge.
std::optional<std::string> choose_blas_core(const CpuFeatures& cpu, std::string_view running_core);

/// The running BLAS's kernels, as OpenBLAS names them (openblas_get_corename);
/// empty when the BLAS in this process is not OpenBLAS.
std::string running_blas_core();
/// OpenBLAS's build line (openblas_get_config), e.g. "OpenBLAS 0.3.21
/// DYNAMIC_ARCH ... Haswell MAX_THREADS=64"; empty when not OpenBLAS.
std::string blas_config();

/// Where the running core came from.
enum class CoreSource {
  not_openblas,  ///< another BLAS: nothing to choose
  library,       ///< OpenBLAS's own choice from cpuid
  user,          ///< OPENBLAS_CORETYPE set before ntk-select started
  chosen,        ///< set by prefer_right_blas_kernels (the library had fallen back)
};

/// The kernels this process computes with, and what the CPU could run.
struct BlasKernels {
  CpuFeatures cpu;
  std::string core;               ///< running core ("" when not OpenBLAS)
  CoreSource source = CoreSource::not_openblas;
  std::string fallback_core;      ///< source chosen: the core OpenBLAS had picked itself
  std::optional<std::string> better;  ///< a core of a wider class this CPU runs (a fallback)

  /// Where the core came from: "OpenBLAS's own choice", "OPENBLAS_CORETYPE=Haswell
  /// set before ntk-select started", "chosen by ntk-select: OpenBLAS had picked Prescott".
  std::string origin() const;
  /// "Haswell (AVX2 kernels; <origin>)"
  std::string core_text() const;
  /// One line for logs, --build-info, selfcheck and manifests, e.g.
  /// "OpenBLAS core SkylakeX (chosen by ntk-select: OpenBLAS picked Prescott on
  /// this CPU), CPU Intel(R) Xeon(R) Processor: AVX-512".
  std::string describe() const;
};

/// The state of this process (computed once, then cached).
const BlasKernels& blas_kernels();

/// Call first in main(): when OpenBLAS runs a fallback core, OPENBLAS_CORETYPE
/// is unset and the CPU runs wider kernels, sets OPENBLAS_CORETYPE (and
/// NTKS_BLAS_CHOSEN_CORE, so that the new image knows it chose) and executes
/// /proc/self/exe again with the same arguments. Returns when there is nothing
/// to do or the exec failed (then blas_kernels() reports the fallback).
void prefer_right_blas_kernels(char** argv);

/// Whether LibTorch's GEMM and GEMV calls reach src/util/blas_tiles.cpp:
/// cut into tiles fixed by the shape, each computed on one thread, so that
/// results do not depend on the thread count (whatever kernels run).
bool blas_calls_tiled();
/// Turns the tiling off or on again (on by default) and returns the previous
/// state; off, OpenBLAS threads each call itself. For the benchmarks that
/// measure what the tiling costs.
bool set_tiled_blas(bool on);

/// The environment variable that marks a core chosen by prefer_right_blas_kernels.
inline constexpr const char* kChosenCoreVariable = "NTKS_BLAS_CHOSEN_CORE";
/// Where the library's own pick is kept across the exec (for describe()).
inline constexpr const char* kFallbackCoreVariable = "NTKS_BLAS_FALLBACK_CORE";

}  // namespace ntks::util
