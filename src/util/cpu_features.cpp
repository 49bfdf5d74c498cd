// cpuid and xgetbv: what this CPU and its OS let a GEMM kernel use.

#include <cstdint>
#include <cstring>

#include "ntks/util/blas_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace ntks::util {

#if defined(__x86_64__) || defined(__i386__)
namespace {

struct Regs {
  unsigned a = 0, b = 0, c = 0, d = 0;
};

Regs cpuid(unsigned leaf, unsigned sub = 0) {
  Regs r;
  if (!__get_cpuid_count(leaf, sub, &r.a, &r.b, &r.c, &r.d)) return Regs{};
  return r;
}

bool bit(unsigned reg, int n) { return (reg >> n) & 1u; }

// XCR0: which register state the OS saves on a context switch. A CPU with
// AVX-512 under an OS (or hypervisor) that does not save ZMM cannot use it.
std::uint64_t xcr0() {
  unsigned lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<std::uint64_t>(hi) << 32) | lo;
}

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(' ');
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(' ') - b + 1);
}

}  // namespace

CpuFeatures detect_cpu() {
  CpuFeatures f;
  const Regs v = cpuid(0);
  char vendor[13] = {0};
  std::memcpy(vendor, &v.b, 4);
  std::memcpy(vendor + 4, &v.d, 4);
  std::memcpy(vendor + 8, &v.c, 4);
  f.vendor = vendor;

  const Regs one = cpuid(1);
  const unsigned base_family = (one.a >> 8) & 0xf, base_model = (one.a >> 4) & 0xf;
  f.family = static_cast<int>(base_family == 0xf ? base_family + ((one.a >> 20) & 0xff) : base_family);
  f.model = static_cast<int>(base_family == 0x6 || base_family == 0xf ? base_model | (((one.a >> 16) & 0xf) << 4)
                                                                       : base_model);
  const bool osxsave = bit(one.c, 27);
  const std::uint64_t xcr = osxsave ? xcr0() : 0;
  const bool os_avx = (xcr & 0x6) == 0x6;       // XMM and YMM state
  const bool os_avx512 = (xcr & 0xe6) == 0xe6;  // and opmask, ZMM0-15 high halves, ZMM16-31
  f.fma = bit(one.c, 12) && os_avx;
  f.avx = bit(one.c, 28) && os_avx;

  if (v.a >= 7) {
    const Regs seven = cpuid(7, 0);
    f.avx2 = f.avx && bit(seven.b, 5);
    // F (16), DQ (17), CD (28), BW (30), VL (31)
    f.avx512 = os_avx512 && bit(seven.b, 16) && bit(seven.b, 17) && bit(seven.b, 28) && bit(seven.b, 30) &&
               bit(seven.b, 31);
    if (seven.a >= 1) f.avx512_bf16 = f.avx512 && bit(cpuid(7, 1).a, 5);
  }

  if (cpuid(0x80000000).a >= 0x80000004) {
    char brand[49] = {0};
    for (unsigned i = 0; i < 3; ++i) {
      const Regs r = cpuid(0x80000002 + i);
      std::memcpy(brand + 16 * i, &r.a, 4);
      std::memcpy(brand + 16 * i + 4, &r.b, 4);
      std::memcpy(brand + 16 * i + 8, &r.c, 4);
      std::memcpy(brand + 16 * i + 12, &r.d, 4);
    }
    f.brand = trim(brand);
  }
  return f;
}

#else

CpuFeatures detect_cpu() { return CpuFeatures{}; }

#endif

}  // namespace ntks::util
