// float_to_half / half_to_float against known bit patterns and against an
// independent reference: the nearest half value found by search in double
// precision, ties to the even mantissa.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "ntks/store/feature_file.h"

using ntks::store::float_to_half;
using ntks::store::half_to_float;

namespace {

float from_bits(std::uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

std::uint32_t bits_of(float f) {
  std::uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  return bits;
}

// Value of a finite non-negative half, computed from the definition.
double half_value(std::uint32_t h) {
  const int e = static_cast<int>(h >> 10);
  const int m = static_cast<int>(h & 0x3ff);
  return e == 0 ? std::ldexp(m, -24) : std::ldexp(1.0 + m / 1024.0, e - 15);
}

// Reference rounding: bracket |f| between consecutive halves by binary search,
// take the nearer one, ties to even; at or beyond 65520 it is inf.
std::uint16_t reference_half(float f) {
  const std::uint16_t sign = std::signbit(f) ? 0x8000 : 0;
  const double a = std::fabs(static_cast<double>(f));
  if (std::isinf(f) || a >= 65520.0) return sign | 0x7c00;
  std::uint32_t lo = 0, hi = 0x7bff;  // largest h with half_value(h) <= a
  while (lo < hi) {
    const std::uint32_t mid = (lo + hi + 1) / 2;
    if (half_value(mid) <= a) lo = mid; else hi = mid - 1;
  }
  const double below = half_value(lo);
  const double above = lo == 0x7bff ? 65536.0 : half_value(lo + 1);
  std::uint32_t h = lo;
  if (a - below > above - a || (a - below == above - a && (lo & 1))) h = lo + 1;
  return static_cast<std::uint16_t>(sign | h);
}

TEST(StoreHalf, KnownBitPatterns) {
  struct Case { float in; std::uint16_t out; const char* what; };
  const Case cases[] = {
      {0.0f, 0x0000, "zero"},
      {-0.0f, 0x8000, "negative zero"},
      {1.0f, 0x3c00, "one"},
      {-2.0f, 0xc000, "minus two"},
      {0.333333343f, 0x3555, "one third"},
      {65504.0f, 0x7bff, "largest half"},
      {65519.996f, 0x7bff, "just below the overflow threshold"},
      {65520.0f, 0x7c00, "overflow threshold ties to inf"},
      {1.0e6f, 0x7c00, "overflow"},
      {-1.0e6f, 0xfc00, "negative overflow"},
      {std::numeric_limits<float>::infinity(), 0x7c00, "inf"},
      {-std::numeric_limits<float>::infinity(), 0xfc00, "-inf"},
      {std::ldexp(1.0f, -14), 0x0400, "smallest normal"},
      {std::ldexp(1023.0f, -24), 0x03ff, "largest subnormal"},
      {std::ldexp(1023.5f, -24), 0x0400, "subnormal tie rounds up into the normals"},
      {std::ldexp(1.0f, -24), 0x0001, "smallest subnormal"},
      {-std::ldexp(1.0f, -24), 0x8001, "negative smallest subnormal"},
      {std::ldexp(1.0f, -25), 0x0000, "half the smallest subnormal ties to zero"},
      {std::nextafter(std::ldexp(1.0f, -25), 1.0f), 0x0001, "just above 2^-25"},
      {std::ldexp(3.0f, -25), 0x0002, "1.5 * 2^-24 ties to even 2"},
      {std::ldexp(5.0f, -25), 0x0002, "2.5 * 2^-24 ties to even 2"},
      {std::ldexp(1.0f, -30), 0x0000, "underflow"},
      {std::numeric_limits<float>::denorm_min(), 0x0000, "float subnormal"},
      {1.0f + std::ldexp(1.0f, -11), 0x3c00, "tie between 1 and next rounds to even"},
      {1.0f + std::ldexp(3.0f, -11), 0x3c02, "tie rounds up to even"},
      {1.0f + std::ldexp(1.0f, -11) + std::ldexp(1.0f, -20), 0x3c01, "above the tie"},
      {2.0f - std::ldexp(1.0f, -11), 0x4000, "mantissa carry into the exponent"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(float_to_half(c.in), c.out) << c.what << " (" << c.in << ")";
  }
}

TEST(StoreHalf, NanStaysNan) {
  for (std::uint32_t bits : {0x7fc00000u, 0xffc00000u, 0x7f800001u, 0x7fbfffffu, 0x7f802000u}) {
    const std::uint16_t h = float_to_half(from_bits(bits));
    EXPECT_EQ(h & 0x7c00, 0x7c00) << std::hex << bits;
    EXPECT_NE(h & 0x03ff, 0) << "NaN 0x" << std::hex << bits << " became inf";
    EXPECT_EQ(h >> 15, bits >> 31) << "sign of NaN 0x" << std::hex << bits;
    EXPECT_TRUE(std::isnan(half_to_float(h)));
  }
}

TEST(StoreHalf, WideningIsExact) {
  EXPECT_EQ(half_to_float(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(half_to_float(0x03ff), std::ldexp(1023.0f, -24));
  EXPECT_EQ(half_to_float(0x0400), std::ldexp(1.0f, -14));
  EXPECT_EQ(half_to_float(0x3555), 0.333251953125f);
  EXPECT_EQ(half_to_float(0x7bff), 65504.0f);
  EXPECT_EQ(half_to_float(0xfbff), -65504.0f);
  EXPECT_EQ(half_to_float(0x7c00), std::numeric_limits<float>::infinity());
  EXPECT_EQ(half_to_float(0xfc00), -std::numeric_limits<float>::infinity());
  EXPECT_EQ(bits_of(half_to_float(0x8000)), 0x80000000u);
  // every finite half widens to its value and narrows back to itself
  for (std::uint32_t h = 0; h <= 0xffff; ++h) {
    const float f = half_to_float(static_cast<std::uint16_t>(h));
    if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0) {
      EXPECT_TRUE(std::isnan(f)) << std::hex << h;
      continue;
    }
    const double expected = (h & 0x8000 ? -1.0 : 1.0) *
                            ((h & 0x7fff) == 0x7c00 ? INFINITY : half_value(h & 0x7fff));
    ASSERT_EQ(static_cast<double>(f), expected) << std::hex << h;
    ASSERT_EQ(float_to_half(f), h) << std::hex << h;
  }
}

TEST(StoreHalf, MatchesReferenceRounding) {
  std::size_t checked = 0;
  auto check = [&](std::uint32_t bits) {
    const float f = from_bits(bits);
    if (std::isnan(f)) return;
    ASSERT_EQ(float_to_half(f), reference_half(f))
        << "float bits 0x" << std::hex << bits << " (" << f << ")";
    ++checked;
  };
  // a sparse sweep of all floats, both signs
  for (std::uint64_t bits = 0; bits <= 0xffffffffull; bits += 4093) check(static_cast<std::uint32_t>(bits));
  // every float near each boundary: underflow to zero, subnormal/normal, overflow
  for (std::uint32_t center : {0x33000000u, 0x38800000u, 0x477ff000u, 0x3f800000u}) {
    for (std::uint32_t bits = center - 20000; bits <= center + 20000; ++bits) {
      check(bits);
      check(bits | 0x80000000u);
    }
  }
  // every tie between neighbouring finite halves (exact in float32), and its neighbours
  for (std::uint32_t h = 0; h < 0x7bff; ++h) {
    const float tie = static_cast<float>((half_value(h) + half_value(h + 1)) / 2);
    for (float f : {tie, std::nextafter(tie, 0.0f), std::nextafter(tie, 1.0e6f)}) {
      check(bits_of(f));
      check(bits_of(-f));
    }
  }
  EXPECT_GT(checked, 1000000u);
}

}  // namespace
