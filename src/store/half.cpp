// float32 <-> IEEE binary16 by bit manipulation. HDF5's own float conversion
// is a slow soft path, and torch's is not available without torch; this one
// is shared by the store, the tests and later stages.

#include <cstring>

#include "half_bulk.h"
#include "ntks/store/feature_file.h"

namespace ntks::store {

std::uint16_t float_to_half(float f) {
  std::uint32_t x;
  std::memcpy(&x, &f, sizeof x);
  const auto sign = static_cast<std::uint16_t>((x >> 16) & 0x8000u);
  const std::uint32_t abs = x & 0x7fffffffu;

  if (abs > 0x7f800000u) {  // NaN: quiet it, keep the top payload bits
    return static_cast<std::uint16_t>(sign | 0x7e00u | ((abs >> 13) & 0x3ffu));
  }
  // 65520 is halfway between the largest half (65504, odd mantissa) and 2^16:
  // ties-to-even rounds it (and everything above) to inf.
  if (abs >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);

  if (abs >= 0x38800000u) {  // normal half: rebias exponent 127 -> 15, round 23 -> 10 bits
    std::uint32_t v = abs - 0x38000000u;
    v += 0x0fffu + ((v >> 13) & 1u);  // round to nearest even; a carry bumps the exponent
    return static_cast<std::uint16_t>(sign | (v >> 13));
  }
  if (abs <= 0x33000000u) return sign;  // <= 2^-25: rounds to (signed) zero

  // Subnormal half m * 2^-24: shift the 24-bit significand right by 126 - exponent.
  const std::uint32_t significand = (abs & 0x7fffffu) | 0x800000u;
  const int shift = 126 - static_cast<int>(abs >> 23);  // 14..24
  std::uint32_t m = significand >> shift;
  const std::uint32_t rest = significand & ((1u << shift) - 1u);
  const std::uint32_t halfway = 1u << (shift - 1);
  if (rest > halfway || (rest == halfway && (m & 1u))) ++m;  // may carry into the smallest normal
  return static_cast<std::uint16_t>(sign | m);
}

float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exponent = (h >> 10) & 0x1fu;
  const std::uint32_t mantissa = h & 0x3ffu;
  std::uint32_t bits;
  if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112u) << 23) | (mantissa << 13);
  } else {
    // zero or subnormal: mantissa * 2^-24 is exact in float32
    float magnitude = static_cast<float>(mantissa) * 5.9604644775390625e-8f;
    std::memcpy(&bits, &magnitude, sizeof bits);
    bits |= sign;
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

void floats_to_halves(const float* in, std::uint16_t* out, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out[i] = float_to_half(in[i]);
}

void halves_to_floats(const std::uint16_t* in, float* out, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out[i] = half_to_float(in[i]);
}

}  // namespace ntks::store
