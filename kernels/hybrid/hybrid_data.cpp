#include "kernels/hybrid/hybrid_data.hpp"

namespace hgca::kernels::hybrid {

namespace {
std::uint64_t mix(std::uint64_t z) {  // splitmix64 finalizer
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
// Uniform in [-1, 1), from a hash of the four keys.
float unit(std::uint64_t seed, std::uint64_t a, std::uint64_t b, std::uint64_t c) {
  std::uint64_t z = mix(seed + 0x9E3779B97F4A7C15ull);
  z = mix(z ^ (a + 0x632BE59BD9B4E019ull));
  z = mix(z ^ (b + 0x85157AF5ull));
  z = mix(z ^ c);
  return static_cast<float>(z >> 40) * (2.0f / 16777216.0f) - 1.0f;
}
constexpr float kSqrt3 = 1.7320508f;
}  // namespace

float kv_value(std::uint64_t seed, int which, int seq, int kv_head, std::int64_t position, int i) {
  const std::uint64_t head_key = (static_cast<std::uint64_t>(seq) << 32) | (static_cast<std::uint64_t>(kv_head) << 1) |
                                 static_cast<std::uint64_t>(which);
  const float x = kSqrt3 * unit(seed, head_key, static_cast<std::uint64_t>(position), static_cast<std::uint64_t>(i));
  if (which == 1) return x;
  return x + 1.5f * unit(seed ^ 0xC0FFEEull, static_cast<std::uint64_t>(kv_head), 0, static_cast<std::uint64_t>(i));
}

float query_value(std::uint64_t seed, int seq, int q_head, int i) {
  return 1.5f * kSqrt3 *
         unit(seed ^ 0x5EEDull, static_cast<std::uint64_t>(seq), static_cast<std::uint64_t>(q_head),
              static_cast<std::uint64_t>(i) | (1ull << 40));
}

}  // namespace hgca::kernels::hybrid
