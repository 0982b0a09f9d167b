#include "kernels/cpu/settle.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <thread>
#include <vector>

#include "kernels/cpu/thread_pool.hpp"

namespace hgca::kernels {

double machine_uptime_seconds() {
  std::ifstream in("/proc/uptime");
  double up = -1;
  if (!(in >> up)) return -1;
  return up;
}

double settle_machine(const SettleOptions& o) {
  const double up = o.uptime ? o.uptime() : -1;
  if (!(o.min_uptime_s > 0) || up < 0 || up >= o.min_uptime_s) return 0;
  const double wait = std::min(o.min_uptime_s - up, o.max_wait_s);
  if (o.log) {
    char line[160];
    std::snprintf(line, sizeof line, "settling: the machine has been up %.0f s; streaming memory for %.0f s first", up, wait);
    o.log(line);
  }
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration<double>(wait);
  const int threads = o.threads > 0 ? o.threads : std::max(1u, std::thread::hardware_concurrency());
  const std::size_t words = std::max<std::size_t>(o.buffer_bytes / sizeof(std::uint64_t), 1);
  std::vector<std::uint64_t> buffer(words, 1);
  ThreadPool pool(threads);
  // Rounds of one read-modify-write sweep over the buffer, split across the threads, until the time is up or
  // the machine's own clock says it has been up long enough (the writes keep the sweep from being optimised away).
  while (Clock::now() < end && o.uptime() < o.min_uptime_s) {
    pool.parallel_for(threads, Partition::static_round_robin, [&](std::int64_t task, int) {
      const std::size_t lo = words * static_cast<std::size_t>(task) / static_cast<std::size_t>(threads);
      const std::size_t hi = words * static_cast<std::size_t>(task + 1) / static_cast<std::size_t>(threads);
      for (std::size_t i = lo; i < hi; ++i) ++buffer[i];
    });
  }
  const double waited = std::chrono::duration<double>(Clock::now() - start).count();
  if (o.log) {
    char line[96];
    std::snprintf(line, sizeof line, "settling: done after %.0f s", waited);
    o.log(line);
  }
  return waited;
}

}  // namespace hgca::kernels
