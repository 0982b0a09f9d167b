#include "kernels/cpu/thread_pool.hpp"

#include <stdexcept>

namespace hgca::kernels {

const char* partition_name(Partition p) { return p == Partition::static_round_robin ? "static" : "dynamic"; }

ThreadPool::ThreadPool(int threads) {
  if (threads < 1) throw std::invalid_argument("ThreadPool: threads must be >= 1");
  for (int t = 1; t < threads; ++t) workers_.emplace_back([this, t] { worker_main(t); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
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
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      start_cv_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
    }
    work_share(thread);
    {
      std::lock_guard lock(mutex_);
      if (--busy_workers_ == 0) done_cv_.notify_one();
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
      busy_workers_ = static_cast<int>(workers_.size());
      ++generation_;  // the mutex publishes the job fields above to the workers
    }
    start_cv_.notify_all();
  }
  work_share(0);
  if (!workers_.empty()) {
    std::unique_lock lock(mutex_);
    done_cv_.wait(lock, [&] { return busy_workers_ == 0; });
  }
  if (error_) std::rethrow_exception(error_);
}

}  // namespace hgca::kernels
