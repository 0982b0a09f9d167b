// Counter-based random numbers: every draw is a pure function of (seed, stream, index, component), so a
// synthetic trace is the same whatever order (or thread) generates its parts, and one (layer, head) can be
// produced without generating anything before it.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>

namespace hgca::traces::synth {

inline uint64_t mix64(uint64_t x) {  // SplitMix64 finalizer: a bijection with good avalanche
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

struct CounterRng {
  uint64_t key;  // seed and stream folded together

  CounterRng(uint64_t seed, uint64_t stream) : key(mix64(mix64(seed) ^ (stream * 0xd6e8feb86659fd93ULL))) {}

  uint64_t bits(uint64_t index, uint64_t component) const {
    return mix64(key ^ mix64(index * 0x9e3779b97f4a7c15ULL + component));
  }
  // Uniform in (0, 1): never exactly 0 or 1.
  double uniform(uint64_t index, uint64_t component) const {
    return (static_cast<double>(bits(index, component) >> 11) + 0.5) * 0x1.0p-53;
  }
  // Standard normal (Box-Muller on two independent uniforms).
  double normal(uint64_t index, uint64_t component) const {
    const double u1 = uniform(index, 2 * component), u2 = uniform(index, 2 * component + 1);
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }
  // Approximately standard normal and cheap (one hash): the sum of four 16-bit uniforms, centred and scaled to
  // unit variance (Irwin-Hall; bounded by +-3.46). For attention values, whose distribution does not matter.
  double rough_normal(uint64_t index, uint64_t component) const {
    const uint64_t b = bits(index, component);
    const double sum = static_cast<double>((b & 0xffff) + ((b >> 16) & 0xffff) + ((b >> 32) & 0xffff) + (b >> 48));
    return (sum / 65536.0 - 2.0) * 1.7320508075688772;  // variance of the sum is 4/12
  }
};

// Stream identifiers: one per kind of draw and (layer, head), so no two parts share numbers.
enum class Stream : uint64_t { kKeyNoise = 1, kKeyTag = 2, kValue = 3, kQueryNoise = 4, kEvalNoise = 5 };
inline uint64_t stream_id(Stream s, int layer, int head) {
  return (static_cast<uint64_t>(s) << 48) ^ (static_cast<uint64_t>(layer) << 24) ^ static_cast<uint64_t>(head);
}

}  // namespace hgca::traces::synth
