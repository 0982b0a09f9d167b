// Our own 16-bit floating-point storage types for the KV cache: IEEE binary16 (fp16) and bfloat16.
//
// Conversions are written with integer arithmetic so they do not depend on compiler _Float16 support or on
// F16C; SIMD kernels convert with their own instructions and never include this header (see kernel_table.hpp
// for why). float -> 16 bit rounds to nearest, ties to even; overflow goes to infinity; NaN stays NaN with
// its payload's high bits kept (a payload that would truncate to zero gets the quiet bit so it cannot turn
// into infinity). 16 bit -> float is exact, so every one of the 65536 patterns survives a round trip.
#pragma once

#include <bit>
#include <cstdint>

namespace hgca::kernels {

inline float fp16_bits_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exp = (h >> 10) & 0x1Fu;
  std::uint32_t man = h & 0x3FFu;
  if (exp == 0x1F) return std::bit_cast<float>(sign | 0x7F800000u | (man << 13));  // inf, NaN
  if (exp == 0) {
    if (man == 0) return std::bit_cast<float>(sign);
    // Subnormal fp16 is a normal float: shift the leading one into the implicit position.
    int e = 1;
    while ((man & 0x400u) == 0) {
      man <<= 1;
      --e;
    }
    man &= 0x3FFu;
    return std::bit_cast<float>(sign | (static_cast<std::uint32_t>(e + 112) << 23) | (man << 13));
  }
  return std::bit_cast<float>(sign | ((exp + 112) << 23) | (man << 13));
}

inline std::uint16_t float_to_fp16_bits(float f) {
  const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
  const auto sign = static_cast<std::uint16_t>((x >> 16) & 0x8000u);
  const std::uint32_t ax = x & 0x7FFFFFFFu;
  if (ax >= 0x7F800000u) {
    if (ax == 0x7F800000u) return sign | 0x7C00u;
    std::uint32_t payload = (ax >> 13) & 0x3FFu;
    if (payload == 0) payload = 0x200u;
    return static_cast<std::uint16_t>(sign | 0x7C00u | payload);
  }
  // 65520 = 65504 + half an ulp; the tie goes to the even neighbour, which is 2^16, i.e. infinity.
  if (ax >= 0x477FF000u) return sign | 0x7C00u;
  if (ax < 0x38800000u) {  // below 2^-14: fp16 subnormal (unit 2^-24) or zero
    if (ax <= 0x33000000u) return sign;  // at most 2^-25: rounds to zero (2^-25 is a tie, zero is even)
    const std::uint32_t exp = ax >> 23;
    const std::uint32_t man = (ax & 0x7FFFFFu) | 0x800000u;
    const std::uint32_t shift = 126 - exp;  // value / 2^-24 = man * 2^(exp - 126)
    std::uint32_t r = man >> shift;
    const std::uint32_t rem = man & ((1u << shift) - 1);
    const std::uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (r & 1u))) ++r;  // may carry into the smallest normal: still right
    return static_cast<std::uint16_t>(sign | r);
  }
  std::uint32_t h = (((ax >> 23) - 112) << 10) | ((ax >> 13) & 0x3FFu);
  const std::uint32_t rem = ax & 0x1FFFu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;  // a carry into the exponent is correct
  return static_cast<std::uint16_t>(sign | h);
}

inline float bf16_bits_to_float(std::uint16_t b) {
  return std::bit_cast<float>(static_cast<std::uint32_t>(b) << 16);
}

inline std::uint16_t float_to_bf16_bits(float f) {
  const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
  if ((x & 0x7FFFFFFFu) > 0x7F800000u) {
    auto b = static_cast<std::uint16_t>(x >> 16);
    if ((b & 0x7Fu) == 0) b |= 0x40u;
    return b;
  }
  // Adding 0x7FFF (+1 when the kept part is odd) carries exactly when the dropped half is above the
  // midpoint, or at it with an odd kept part. Overflow past the largest finite value lands on infinity.
  return static_cast<std::uint16_t>((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16);
}

struct Fp16 {
  std::uint16_t bits;
  static Fp16 from_float(float f) { return {float_to_fp16_bits(f)}; }
  float to_float() const { return fp16_bits_to_float(bits); }
};

struct Bf16 {
  std::uint16_t bits;
  static Bf16 from_float(float f) { return {float_to_bf16_bits(f)}; }
  float to_float() const { return bf16_bits_to_float(bits); }
};

static_assert(sizeof(Fp16) == 2 && sizeof(Bf16) == 2);

}  // namespace hgca::kernels
