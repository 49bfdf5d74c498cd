// OpenBLAS's kernels: which one runs, which one this CPU should run, and the
// re-exec that switches to it before anything else has started.

#include "ntks/util/blas_kernels.h"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>

#include <fmt/format.h>

namespace ntks::util {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// OpenBLAS's own entry points, looked up at run time: the process may link
// another BLAS (MKL, reference), and then there is nothing to choose.
const char* call_openblas(const char* symbol) {
  using Fn = char* (*)();
  auto fn = reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, symbol));
  return fn != nullptr ? fn() : nullptr;
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

BlasKernels inspect() {
  BlasKernels k;
  k.cpu = detect_cpu();
  k.core = running_blas_core();
  if (k.core.empty()) return k;
  const std::string set = env("OPENBLAS_CORETYPE");
  if (set.empty()) {
    k.source = CoreSource::library;
  } else if (set == env(kChosenCoreVariable)) {
    k.source = CoreSource::chosen;
    k.fallback_core = env(kFallbackCoreVariable);
  } else {
    k.source = CoreSource::user;
  }
  k.better = choose_blas_core(k.cpu, k.core);
  return k;
}

}  // namespace

const char* tier_name(KernelTier tier) {
  switch (tier) {
    case KernelTier::sse: return "SSE";
    case KernelTier::avx: return "AVX";
    case KernelTier::avx2: return "AVX2";
    case KernelTier::avx512: return "AVX-512";
  }
  return "?";
}

KernelTier cpu_tier(const CpuFeatures& cpu) {
  if (cpu.avx512 && cpu.avx2 && cpu.fma) return KernelTier::avx512;
  if (cpu.avx2 && cpu.fma) return KernelTier::avx2;
  if (cpu.avx) return KernelTier::avx;
  return KernelTier::sse;
}

std::optional<KernelTier> core_tier(std::string_view core) {
  // OpenBLAS 0.3.x's DYNAMIC_ARCH core names (driver/others/dynamic.c), by the
  // vector width of their GEMM kernels.
  static const std::map<std::string, KernelTier> tiers = {
      {"katmai", KernelTier::sse},       {"coppermine", KernelTier::sse},   {"northwood", KernelTier::sse},
      {"prescott", KernelTier::sse},     {"banias", KernelTier::sse},       {"atom", KernelTier::sse},
      {"core2", KernelTier::sse},        {"penryn", KernelTier::sse},       {"dunnington", KernelTier::sse},
      {"nehalem", KernelTier::sse},      {"athlon", KernelTier::sse},       {"opteron", KernelTier::sse},
      {"opteron_sse3", KernelTier::sse}, {"barcelona", KernelTier::sse},    {"nano", KernelTier::sse},
      {"bobcat", KernelTier::sse},       {"sandybridge", KernelTier::avx},  {"bulldozer", KernelTier::avx},
      {"piledriver", KernelTier::avx},   {"steamroller", KernelTier::avx},  {"excavator", KernelTier::avx},
      {"haswell", KernelTier::avx2},     {"zen", KernelTier::avx2},         {"skylakex", KernelTier::avx512},
      {"cooperlake", KernelTier::avx512}, {"sapphirerapids", KernelTier::avx512},
  };
  const auto it = tiers.find(lower(core));
  if (it == tiers.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> choose_blas_core(const CpuFeatures& cpu, std::string_view running_core) {
  const std::optional<KernelTier> running = core_tier(running_core);
  const KernelTier best = cpu_tier(cpu);
  if (!running || *running >= best) return std::nullopt;
  switch (best) {
    case KernelTier::avx512: return std::string(cpu.avx512_bf16 ? "Cooperlake" : "SkylakeX");
    case KernelTier::avx2: return std::string("Haswell");
    case KernelTier::avx: return std::string("Sandybridge");
    case KernelTier::sse: break;
  }
  return std::nullopt;
}

std::string running_blas_core() {
  const char* name = call_openblas("openblas_get_corename");
  return name != nullptr ? name : "";
}

std::string blas_config() {
  const char* config = call_openblas("openblas_get_config");
  return config != nullptr ? config : "";
}

std::string describe_cpu(const CpuFeatures& cpu) {
  std::string isa = tier_name(cpu_tier(cpu));
  if (cpu.avx512_bf16) isa += " with BF16";
  return fmt::format("{} ({} family {} model {}): {}", cpu.brand.empty() ? "unnamed CPU" : cpu.brand, cpu.vendor,
                     cpu.family, cpu.model, isa);
}

std::string BlasKernels::origin() const {
  switch (source) {
    case CoreSource::library: return "OpenBLAS's own choice";
    case CoreSource::user: return "OPENBLAS_CORETYPE=" + env("OPENBLAS_CORETYPE") + " set before ntk-select started";
    case CoreSource::chosen:
      return fmt::format("chosen by ntk-select: OpenBLAS had picked {} on this CPU",
                         fallback_core.empty() ? "a fallback core" : fallback_core);
    case CoreSource::not_openblas: break;
  }
  return "not OpenBLAS";
}

std::string BlasKernels::describe() const {
  if (source == CoreSource::not_openblas) return "BLAS not OpenBLAS (no kernels to choose); CPU " + describe_cpu(cpu);
  const std::string config = blas_config();
  // "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ...": the name and version.
  const std::string library = config.substr(0, config.find(' ', config.find(' ') + 1));
  return fmt::format("{} core {}{}; CPU {}", library, core_text(), blas_calls_tiled() ? ", GEMMs in fixed tiles" : "",
                     describe_cpu(cpu));
}

std::string BlasKernels::core_text() const {
  const std::optional<KernelTier> tier = core_tier(core);
  return fmt::format("{} ({} kernels; {})", core, tier ? tier_name(*tier) : "unknown", origin());
}

const BlasKernels& blas_kernels() {
  static const BlasKernels k = inspect();
  return k;
}

void prefer_right_blas_kernels(char** argv) {
  // Tests: OPENBLAS_CORETYPE made the library load a fallback core; forget it,
  // as if the library had picked that core itself on a masked CPU.
  if (std::getenv("NTKS_TEST_BLAS_FELL_BACK") != nullptr) {
    unsetenv("NTKS_TEST_BLAS_FELL_BACK");
    unsetenv("OPENBLAS_CORETYPE");
  }
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return;  // the user's, or ours from before the exec
  const std::string core = running_blas_core();
  if (core.empty()) return;
  const std::optional<std::string> better = choose_blas_core(detect_cpu(), core);
  if (!better) return;
  setenv("OPENBLAS_CORETYPE", better->c_str(), 1);
  setenv(kChosenCoreVariable, better->c_str(), 1);
  setenv(kFallbackCoreVariable, core.c_str(), 1);
  execv("/proc/self/exe", argv);
  // No exec (no /proc): carry on with the fallback; blas_kernels() reports it.
  unsetenv("OPENBLAS_CORETYPE");
  unsetenv(kChosenCoreVariable);
  unsetenv(kFallbackCoreVariable);
}

}  // namespace ntks::util
