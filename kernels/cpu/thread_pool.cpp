#include "kernels/cpu/thread_pool.hpp"

#include <stdexcept>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace hgca::kernels {

const char* partition_name(Partition p) { return p == Partition::static_round_robin ? "static" : "dynamic"; }

namespace {
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}
}  // namespace

template <class Pred>
bool ThreadPool::spin_until(Pred pred) const {
  if (spin_.count() <= 0) return pred();
  const auto end = std::chrono::steady_clock::now() + spin_;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (pred()) return true;
      cpu_relax();
    }
    if (std::chrono::steady_clock::now() >= end) return pred();
  }
}

ThreadPool::ThreadPool(int threads, std::chrono::microseconds spin) : spin_(spin) {
  if (threads < 1) throw std::invalid_argument("ThreadPool: threads must be >= 1");
  if (spin.count() < 0) throw std::invalid_argument("ThreadPool: spin must be >= 0");
  for (int t = 1; t < threads; ++t) workers_.emplace_back([this, t] { worker_main(t); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_.store(true, std::memory_order_release);
  }
  start_cv_.notify_all();
  for (std::thread& w : workers_) w.join();
}

void ThreadPool::work_share(int thread) {
  // Each task is guarded on its own so that one throwing task does not take the rest of a share with it.
  auto run_one = [&](std::int64_t t) {
    try {
      thunk_(ctx_, t, thread);
    } catch (...) {
      std::lock_guard lock(error_mutex_);
      if (!error_) error_ = std::current_exception();
    }
  };
  if (policy_ == Partition::static_round_robin) {
    for (std::int64_t t = thread; t < tasks_; t += size()) run_one(t);
    return;
  }
  for (;;) {
    const std::int64_t begin = next_.fetch_add(chunk_, std::memory_order_relaxed);
    if (begin >= tasks_) return;
    const std::int64_t end = begin + chunk_ < tasks_ ? begin + chunk_ : tasks_;
    for (std::int64_t t = begin; t < end; ++t) run_one(t);
  }
}

void ThreadPool::worker_main(int thread) {
  std::uint64_t seen = 0;
  const auto ready = [&] {
    return stopping_.load(std::memory_order_acquire) || generation_.load(std::memory_order_acquire) != seen;
  };
  for (;;) {
    if (!spin_until(ready)) {
      std::unique_lock lock(mutex_);
      start_cv_.wait(lock, ready);
    }
    if (stopping_.load(std::memory_order_acquire)) return;
    seen = generation_.load(std::memory_order_acquire);  // the job fields were written before it (release)
    work_share(thread);
    if (busy_workers_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard lock(mutex_);  // a caller that checked busy_workers_ under the lock is waiting or will see 0
      done_cv_.notify_one();
    }
  }
}

void ThreadPool::run(std::int64_t tasks, Partition policy, std::int64_t chunk, Thunk thunk, void* ctx) {
  if (chunk < 1) throw std::invalid_argument("ThreadPool: chunk must be >= 1");
  if (tasks <= 0) return;
  std::lock_guard call(call_mutex_);
  thunk_ = thunk;
  ctx_ = ctx;
  tasks_ = tasks;
  chunk_ = chunk;
  policy_ = policy;
  next_.store(0, std::memory_order_relaxed);
  error_ = nullptr;
  if (!workers_.empty()) {
    {
      std::lock_guard lock(mutex_);
      busy_workers_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
      generation_.fetch_add(1, std::memory_order_release);  // publishes the job fields above to spinning workers
    }
    start_cv_.notify_all();
  }
  work_share(0);
  if (!workers_.empty()) {
    const auto done = [&] { return busy_workers_.load(std::memory_order_acquire) == 0; };
    if (!spin_until(done)) {
      std::unique_lock lock(mutex_);
      done_cv_.wait(lock, done);
    }
  }
  if (error_) std::rethrow_exception(error_);
}

}  // namespace hgca::kernels
