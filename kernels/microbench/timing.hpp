// Median of repetitions after warm-up: the one statistic every microbenchmark reports.
#pragma once

#include <algorithm>
#include <chrono>
#include <vector>

namespace hgca::kernels::microbench {

inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Runs `fn` `warmup` times untimed, then `reps` times; fn returns the seconds of one repetition.
template <class Fn>
double median_seconds(int warmup, int reps, Fn&& fn) {
  for (int i = 0; i < warmup; ++i) fn();
  std::vector<double> t;
  t.reserve(reps);
  for (int i = 0; i < reps; ++i) t.push_back(fn());
  return median(t);
}

// Wall seconds of one call of `fn` on a steady clock.
template <class Fn>
double wall_seconds(Fn&& fn) {
  const auto t0 = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace hgca::kernels::microbench
