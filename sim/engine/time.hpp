// Simulated time: an integer count of picoseconds. Integer time makes event order exact and results
// bit-identical across machines; picoseconds resolve a 64-byte transfer at 64 GB/s (1 ns) while an int64 still
// spans 106 days of simulated time.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

namespace hgca {

using SimTime = int64_t;
constexpr SimTime kNever = std::numeric_limits<SimTime>::max();
constexpr double kPicosPerSecond = 1e12;

// Durations are rounded up so that a non-zero cost never becomes a zero-length step.
inline SimTime duration_from_seconds(double seconds) {
  if (!(seconds > 0)) return 0;
  const double ps = std::ceil(seconds * kPicosPerSecond - 1e-6);
  return ps >= 9.0e18 ? kNever : static_cast<SimTime>(ps);
}
inline double to_seconds(SimTime t) { return static_cast<double>(t) / kPicosPerSecond; }

}  // namespace hgca
