#include "sim/sweep/executor.hpp"

namespace hgca {
namespace {

void work(WorkQueue& queue, const PointFn& simulate_point, const DoneFn& done) {
  while (const auto index = queue.take()) done(*index, simulate_point(*index));
}

}  // namespace

void run_locally(WorkQueue& queue, int threads, const PointFn& simulate_point, const DoneFn& done) {
  BackgroundWorkers others(queue, std::max(0, threads - 1), simulate_point, done);
  work(queue, simulate_point, done);
}

BackgroundWorkers::BackgroundWorkers(WorkQueue& queue, int threads, const PointFn& simulate_point, const DoneFn& done) {
  for (int t = 0; t < threads; ++t) threads_.emplace_back([&queue, &simulate_point, &done] { work(queue, simulate_point, done); });
}

BackgroundWorkers::~BackgroundWorkers() {
  for (auto& t : threads_) t.join();
}

}  // namespace hgca
