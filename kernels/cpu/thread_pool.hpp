// Persistent worker threads for the CPU kernels. The thread that calls parallel_for works too, so a pool of
// size N has N - 1 workers. parallel_for returns only when every task has run: that is the barrier between
// phases.
//
// Between calls a worker first spins for `spin` (polling for the next job, as a serving system keeps its
// attention workers hot between layers), then parks on a condition variable. Waking a parked thread costs a
// futex wake and, in a virtual machine, a wake of an idle virtual CPU: tens of microseconds that vary from
// call to call. Spinning trades that for a busy core, so use it only with no more threads than cores. The
// caller spins the same way while it waits for the workers to finish. spin = 0 parks at once.
//
// Partitioning policies (the same names the simulator's CPU model uses):
//   static:  task t runs on thread t % N, decided up front (no shared counter; uneven tasks unbalance it)
//   dynamic: threads take the next `chunk` tasks from one atomic counter until none are left
// Which thread runs a task never changes what the task computes; kernels write each task's result to its
// own slot, so results do not depend on the pool size or the policy.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace hgca::kernels {

// The spin the hybrid runner and the calibration microbenchmarks give their workers unless told otherwise:
// none. Run 7 on the device machine measured the holdout points twice each way: with workers spinning 1 ms
// the two measurements differed by a median 8.4 %, parked by 6.3 % (docs/VALIDATION.md), so spinning buys no
// repeatability there and the calibrations park.
inline constexpr std::chrono::microseconds kDefaultWorkerSpin{0};

enum class Partition { static_round_robin, dynamic };
const char* partition_name(Partition p);  // "static" | "dynamic"

class ThreadPool {
 public:
  explicit ThreadPool(int threads, std::chrono::microseconds spin = {});  // threads >= 1, caller included
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }
  std::chrono::microseconds spin() const { return spin_; }

  // Runs fn(task, thread) for every task in [0, tasks); thread is in [0, size()), the caller being 0.
  // One call at a time per pool; a task must not call back into the same pool. If a task throws, the
  // remaining tasks still run and the first exception is rethrown here.
  template <class Fn>
  void parallel_for(std::int64_t tasks, Partition policy, Fn&& fn, std::int64_t chunk = 1) {
    auto thunk = [](void* ctx, std::int64_t task, int thread) { (*static_cast<Fn*>(ctx))(task, thread); };
    run(tasks, policy, chunk, thunk, &fn);
  }

 private:
  using Thunk = void (*)(void*, std::int64_t, int);
  void run(std::int64_t tasks, Partition policy, std::int64_t chunk, Thunk thunk, void* ctx);
  void work_share(int thread);
  void worker_main(int thread);
  // Polls until pred() holds or the spin time is over; true if it holds.
  template <class Pred>
  bool spin_until(Pred pred) const;

  std::chrono::microseconds spin_;
  std::vector<std::thread> workers_;
  std::mutex call_mutex_;  // one parallel_for at a time

  std::mutex mutex_;
  std::condition_variable start_cv_, done_cv_;
  // Written under mutex_ (so that parked threads see them) and read without it by spinning threads.
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<int> busy_workers_{0};
  std::atomic<bool> stopping_{false};

  // The job of the current generation; written before the workers are woken.
  Thunk thunk_ = nullptr;
  void* ctx_ = nullptr;
  std::int64_t tasks_ = 0;
  std::int64_t chunk_ = 1;
  Partition policy_ = Partition::dynamic;
  std::atomic<std::int64_t> next_{0};
  std::exception_ptr error_;
  std::mutex error_mutex_;
};

}  // namespace hgca::kernels
