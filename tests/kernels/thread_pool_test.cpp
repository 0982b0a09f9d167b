// The thread pool: every task exactly once, the static assignment, the caller working, errors surfacing.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "kernels/cpu/thread_pool.hpp"

namespace hgca::kernels {
namespace {

TEST(ThreadPool, EveryTaskRunsExactlyOnce) {
  for (const int threads : {1, 2, 4}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (const Partition p : {Partition::static_round_robin, Partition::dynamic}) {
      for (const std::int64_t chunk : {1, 3}) {
        for (const std::int64_t tasks : {0, 1, 5, 97}) {
          std::vector<std::atomic<int>> hits(static_cast<std::size_t>(tasks));
          pool.parallel_for(tasks, p, [&](std::int64_t t, int) { hits[static_cast<std::size_t>(t)]++; }, chunk);
          for (std::int64_t t = 0; t < tasks; ++t) EXPECT_EQ(hits[static_cast<std::size_t>(t)].load(), 1) << t;
        }
      }
    }
  }
}

TEST(ThreadPool, StaticPolicyIsRoundRobinAndTheCallerWorks) {
  ThreadPool pool(3);
  std::vector<int> ran_on(30, -1);
  const auto caller = std::this_thread::get_id();
  std::atomic<int> caller_tasks{0};
  pool.parallel_for(30, Partition::static_round_robin, [&](std::int64_t t, int thread) {
    ran_on[static_cast<std::size_t>(t)] = thread;
    if (std::this_thread::get_id() == caller) caller_tasks++;
  });
  for (int t = 0; t < 30; ++t) EXPECT_EQ(ran_on[static_cast<std::size_t>(t)], t % 3) << t;
  EXPECT_EQ(caller_tasks.load(), 10);  // thread 0 is the caller
}

TEST(ThreadPool, DynamicPolicyUsesOnlyValidThreadIds) {
  ThreadPool pool(4);
  std::atomic<int> bad{0};
  pool.parallel_for(200, Partition::dynamic, [&](std::int64_t, int thread) {
    if (thread < 0 || thread >= 4) bad++;
  });
  EXPECT_EQ(bad.load(), 0);
}

TEST(ThreadPool, FirstExceptionIsRethrownAfterAllTasksRan) {
  ThreadPool pool(2);
  for (const Partition p : {Partition::static_round_robin, Partition::dynamic}) {
    std::atomic<int> ran{0};
    EXPECT_THROW(pool.parallel_for(20, p, [&](std::int64_t t, int) {
      ran++;
      if (t == 3) throw std::runtime_error("task 3");
    }), std::runtime_error);
    EXPECT_EQ(ran.load(), 20);
    // The pool is still usable afterwards.
    std::atomic<int> again{0};
    pool.parallel_for(7, p, [&](std::int64_t, int) { again++; });
    EXPECT_EQ(again.load(), 7);
  }
}

TEST(ThreadPool, ManyShortCallsInARow) {
  ThreadPool pool(4);
  std::atomic<std::int64_t> total{0};
  for (int call = 0; call < 300; ++call)
    pool.parallel_for(5, call % 2 ? Partition::dynamic : Partition::static_round_robin,
                      [&](std::int64_t t, int) { total += t; });
  EXPECT_EQ(total.load(), 300 * 10);
}

// Spinning workers take the next job without parking; after a pause longer than the spin they park and must
// still be woken. Calls in quick succession and after pauses both run every task once (a job published while
// a worker spins must not be missed, which would hang, or run twice, which would change the total).
TEST(ThreadPool, SpinningWorkersRunEveryCallOnceWhetherHotOrParked) {
  ThreadPool pool(3, std::chrono::microseconds(300));
  EXPECT_EQ(pool.spin(), std::chrono::microseconds(300));
  std::atomic<std::int64_t> total{0};
  for (int call = 0; call < 200; ++call) {
    if (call % 50 == 49) std::this_thread::sleep_for(std::chrono::milliseconds(3));  // past the spin: parked
    pool.parallel_for(9, call % 2 ? Partition::dynamic : Partition::static_round_robin,
                      [&](std::int64_t t, int) { total += t; });
  }
  EXPECT_EQ(total.load(), 200 * 36);
}

TEST(ThreadPool, RejectsBadArguments) {
  EXPECT_THROW(ThreadPool(0), std::invalid_argument);
  EXPECT_THROW(ThreadPool(2, std::chrono::microseconds(-1)), std::invalid_argument);
  ThreadPool pool(1);
  EXPECT_THROW(pool.parallel_for(3, Partition::dynamic, [](std::int64_t, int) {}, 0), std::invalid_argument);
}

}  // namespace
}  // namespace hgca::kernels
