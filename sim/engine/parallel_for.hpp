// Independent work items on a few threads. Each index runs exactly once; a result stored by index is the same
// whichever thread computed it, so callers stay deterministic whatever the thread count.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <thread>
#include <vector>

namespace hgca {

// 0 or less: the machine's hardware threads (at least 1).
inline int resolve_jobs(int jobs) {
  if (jobs > 0) return jobs;
  return std::max(1u, std::thread::hardware_concurrency());
}

// Calls f(i) for every i in [0, n) on up to `jobs` threads (resolve_jobs; the calling thread is one of them).
// If any call throws, the exception of the lowest such index is rethrown once every thread has finished.
template <class F>
void parallel_for(std::size_t n, int jobs, F&& f) {
  const int threads = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(resolve_jobs(jobs)), n));
  if (threads <= 1) {
    for (std::size_t i = 0; i < n; ++i) f(i);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::vector<std::exception_ptr> errors(n);
  auto work = [&] {
    for (std::size_t i; (i = next.fetch_add(1)) < n;) {
      try {
        f(i);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace hgca
