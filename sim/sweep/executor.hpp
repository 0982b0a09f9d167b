// Simulating sweep points in parallel: a queue of pending point indices that threads (and, under MPI, other
// ranks) take from, and the worker loop. Which thread simulates which point never changes a result: every
// outcome is stored by point index.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <thread>
#include <string>
#include <vector>

#include "sim/results/run_result.hpp"

namespace hgca {

struct PointOutcome {
  RunResult result;
  std::string error;  // why the point could not be simulated; "" on success
  bool ok() const { return error.empty(); }
};

// Simulates point `index`; must not throw (failures go into PointOutcome::error).
using PointFn = std::function<PointOutcome(size_t index)>;
// Receives each outcome; may be called from several threads at once and serializes itself.
using DoneFn = std::function<void(size_t index, PointOutcome&& outcome)>;

class WorkQueue {
 public:
  explicit WorkQueue(std::vector<size_t> pending) : pending_(std::move(pending)) {}
  // The next pending index, or nothing once all have been handed out. Thread-safe.
  std::optional<size_t> take() {
    if (cancelled_.load()) return std::nullopt;
    const size_t i = next_.fetch_add(1);
    if (i >= pending_.size()) return std::nullopt;
    return pending_[i];
  }
  size_t size() const { return pending_.size(); }
  // Hands out nothing more (points already taken still finish).
  void cancel() { cancelled_.store(true); }

 private:
  std::atomic<bool> cancelled_{false};
  std::vector<size_t> pending_;
  std::atomic<size_t> next_{0};
};

// Simulates until the queue is empty, on `threads` threads (the calling thread is one of them).
void run_locally(WorkQueue& queue, int threads, const PointFn& simulate_point, const DoneFn& done);

// The same on `threads` background threads, for a caller that has other work (the MPI coordinator).
class BackgroundWorkers {
 public:
  BackgroundWorkers(WorkQueue& queue, int threads, const PointFn& simulate_point, const DoneFn& done);
  ~BackgroundWorkers();  // joins
  BackgroundWorkers(const BackgroundWorkers&) = delete;
  BackgroundWorkers& operator=(const BackgroundWorkers&) = delete;

 private:
  std::vector<std::thread> threads_;
};

}  // namespace hgca
