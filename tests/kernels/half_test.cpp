// fp16 / bf16 conversions against an independent model: values decoded from the bit fields with ldexp, and
// rounding done by searching the sorted table of representable values (nearest, ties to the even pattern).
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "kernels/cpu/half.hpp"

namespace hgca::kernels {
namespace {

double fp16_model(std::uint16_t h) {
  const int e = (h >> 10) & 0x1F, m = h & 0x3FF;
  const double mag = e == 0 ? std::ldexp(m, -24) : std::ldexp(1024 + m, e - 25);
  return (h & 0x8000) ? -mag : mag;
}

double bf16_model(std::uint16_t b) {
  const int e = (b >> 7) & 0xFF, m = b & 0x7F;
  const double mag = e == 0 ? std::ldexp(m, -133) : std::ldexp(128 + m, e - 134);
  return (b & 0x8000) ? -mag : mag;
}

// Non-negative finite values in pattern order (which is value order), plus the first infinite pattern
// standing for the value one ulp above the largest finite one: rounding past the top then lands on infinity
// exactly as IEEE prescribes (ties go to it because the largest finite pattern is odd).
struct Table {
  std::vector<double> value;
  std::uint16_t round(float x) const {
    const double a = std::abs(static_cast<double>(x));
    const std::uint16_t sign = std::signbit(x) ? 0x8000 : 0;
    if (a >= value.back()) return sign | static_cast<std::uint16_t>(value.size() - 1);
    const auto i = static_cast<std::size_t>(std::upper_bound(value.begin(), value.end(), a) - value.begin() - 1);
    const double lo = a - value[i], hi = value[i + 1] - a;
    const std::size_t pick = lo < hi ? i : hi < lo ? i + 1 : (i % 2 == 0 ? i : i + 1);
    return static_cast<std::uint16_t>(sign | pick);
  }
};

Table fp16_table() {
  Table t;
  for (std::uint16_t h = 0; h <= 0x7BFF; ++h) t.value.push_back(fp16_model(h));
  t.value.push_back(65536.0);
  return t;
}

Table bf16_table() {
  Table t;
  for (std::uint16_t b = 0; b <= 0x7F7F; ++b) t.value.push_back(bf16_model(b));
  t.value.push_back(std::ldexp(1.0, 128));
  return t;
}

bool is_nan16(std::uint16_t bits, int exp_shift, std::uint16_t exp_mask) {
  return ((bits >> exp_shift) & exp_mask) == exp_mask && (bits & ((1u << exp_shift) - 1)) != 0;
}

TEST(Fp16, EveryPatternDecodesExactlyAndRoundTrips) {
  for (std::uint32_t p = 0; p <= 0xFFFF; ++p) {
    const auto h = static_cast<std::uint16_t>(p);
    const float f = fp16_bits_to_float(h);
    if (is_nan16(h, 10, 0x1F)) {
      EXPECT_TRUE(std::isnan(f)) << std::hex << p;
    } else if (((h >> 10) & 0x1F) == 0x1F) {
      EXPECT_EQ(f, (h & 0x8000) ? -INFINITY : INFINITY) << std::hex << p;
    } else {
      EXPECT_EQ(static_cast<double>(f), fp16_model(h)) << std::hex << p;
      EXPECT_EQ(std::signbit(f), (h & 0x8000) != 0) << std::hex << p;  // -0 stays -0
    }
    EXPECT_EQ(float_to_fp16_bits(f), h) << std::hex << p;  // NaN payloads included
  }
}

TEST(Bf16, EveryPatternDecodesExactlyAndRoundTrips) {
  for (std::uint32_t p = 0; p <= 0xFFFF; ++p) {
    const auto b = static_cast<std::uint16_t>(p);
    const float f = bf16_bits_to_float(b);
    if (is_nan16(b, 7, 0xFF)) {
      EXPECT_TRUE(std::isnan(f)) << std::hex << p;
    } else if (((b >> 7) & 0xFF) == 0xFF) {
      EXPECT_EQ(f, (b & 0x8000) ? -INFINITY : INFINITY) << std::hex << p;
    } else {
      EXPECT_EQ(static_cast<double>(f), bf16_model(b)) << std::hex << p;
    }
    EXPECT_EQ(float_to_bf16_bits(f), b) << std::hex << p;
  }
}

// Floats that probe every rounding decision: each midpoint between neighbours (a tie), one float ulp either
// side of it, and random bit patterns across the whole range.
std::vector<float> probes(const Table& t, std::uint32_t seed) {
  std::vector<float> xs;
  for (std::size_t i = 0; i + 1 < t.value.size(); ++i) {
    const auto mid = static_cast<float>((t.value[i] + t.value[i + 1]) / 2);  // exact in float for both types
    for (const float x : {mid, std::nextafter(mid, 0.0f), std::nextafter(mid, INFINITY)}) {
      xs.push_back(x);
      xs.push_back(-x);
    }
  }
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::uint32_t> bits;
  for (int i = 0; i < 100000; ++i) {
    const float x = std::bit_cast<float>(bits(rng));
    if (!std::isnan(x)) xs.push_back(x);
  }
  return xs;
}

TEST(Fp16, RoundsToNearestEven) {
  const Table t = fp16_table();
  for (const float x : probes(t, 1)) ASSERT_EQ(float_to_fp16_bits(x), t.round(x)) << x;
}

TEST(Bf16, RoundsToNearestEven) {
  const Table t = bf16_table();
  for (const float x : probes(t, 2)) ASSERT_EQ(float_to_bf16_bits(x), t.round(x)) << x;
}

TEST(Fp16, EdgesOfTheRange) {
  EXPECT_EQ(float_to_fp16_bits(65504.0f), 0x7BFF);
  EXPECT_EQ(float_to_fp16_bits(65519.99f), 0x7BFF);
  EXPECT_EQ(float_to_fp16_bits(65520.0f), 0x7C00);  // tie with 2^16 goes to the even pattern: infinity
  EXPECT_EQ(float_to_fp16_bits(-1e10f), 0xFC00);
  EXPECT_EQ(float_to_fp16_bits(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(float_to_fp16_bits(std::ldexp(1.0f, -25)), 0x0000);  // tie with zero: zero is even
  EXPECT_EQ(float_to_fp16_bits(std::ldexp(1.5f, -25)), 0x0001);
  EXPECT_EQ(float_to_fp16_bits(std::ldexp(1.0f, -14) - std::ldexp(1.0f, -26)), 0x0400);  // carries into the normals
  EXPECT_EQ(float_to_fp16_bits(-0.0f), 0x8000);
  EXPECT_EQ(float_to_fp16_bits(INFINITY), 0x7C00);
  // A NaN whose payload lives only in the low float bits must stay NaN, not become infinity.
  const auto h = float_to_fp16_bits(std::bit_cast<float>(0x7F800001u));
  EXPECT_TRUE(is_nan16(h, 10, 0x1F));
  EXPECT_TRUE(std::isnan(fp16_bits_to_float(float_to_fp16_bits(std::nanf("")))));
}

TEST(Bf16, EdgesOfTheRange) {
  EXPECT_EQ(float_to_bf16_bits(1.0f), 0x3F80);
  EXPECT_EQ(float_to_bf16_bits(std::bit_cast<float>(0x3F808000u)), 0x3F80);  // tie, kept part even: down
  EXPECT_EQ(float_to_bf16_bits(std::bit_cast<float>(0x3F818000u)), 0x3F82);  // tie, kept part odd: up
  EXPECT_EQ(float_to_bf16_bits(std::bit_cast<float>(0x7F7FFFFFu)), 0x7F80);  // FLT_MAX overflows
  EXPECT_EQ(float_to_bf16_bits(std::bit_cast<float>(0x00008000u)), 0x0000);  // subnormal tie to even zero
  EXPECT_EQ(float_to_bf16_bits(-INFINITY), 0xFF80);
  const auto b = float_to_bf16_bits(std::bit_cast<float>(0xFF800001u));
  EXPECT_TRUE(is_nan16(b, 7, 0xFF));
  EXPECT_TRUE(b & 0x8000);
}

}  // namespace
}  // namespace hgca::kernels
