// Median of repetitions after warm-up: the one statistic every microbenchmark reports.
#pragma once

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

namespace hgca::kernels::microbench {

inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Runs `fn` `warmup` times untimed, then repeats it until both `min_reps` repetitions and `min_total_s` timed
// seconds are reached (at most `max_reps`); fn returns the seconds of one repetition. A step of 20 us on a
// virtual machine is at the mercy of one preempted vCPU, and five samples leave the median exposed to it,
// while a millisecond step needs no more than five.
template <class Fn>
double median_seconds_for(int warmup, int min_reps, int max_reps, double min_total_s, Fn&& fn) {
  for (int i = 0; i < warmup; ++i) fn();
  std::vector<double> t;
  double total = 0;
  while (static_cast<int>(t.size()) < max_reps && (static_cast<int>(t.size()) < min_reps || total < min_total_s)) {
    t.push_back(fn());
    total += t.back();
  }
  return median(t);
}

// Runs `fn` `warmup` times untimed, then `reps` times; fn returns the seconds of one repetition.
template <class Fn>
double median_seconds(int warmup, int reps, Fn&& fn) {
  return median_seconds_for(warmup, reps, reps, 0.0, std::forward<Fn>(fn));
}

// Wall seconds of one call of `fn` on a steady clock.
template <class Fn>
double wall_seconds(Fn&& fn) {
  const auto t0 = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace hgca::kernels::microbench
