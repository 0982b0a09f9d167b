#include "sim/hw/cpu_pool.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace hgca {

double cpu_bandwidth(const CpuSpec& spec, int threads) {
  const auto& pts = spec.bandwidth_by_threads;
  if (pts.empty() || threads <= 0) return 0;
  if (threads <= pts.front().first) return pts.front().second * threads / pts.front().first;
  for (size_t i = 1; i < pts.size(); ++i) {
    if (threads <= pts[i].first) {
      const auto& [t0, b0] = pts[i - 1];
      const auto& [t1, b1] = pts[i];
      return b0 + (b1 - b0) * (threads - t0) / static_cast<double>(t1 - t0);
    }
  }
  return pts.back().second;
}

CpuPool::CpuPool(Simulator& sim, OpListener& listener, const CpuSpec& spec, int threads, CpuSchedule schedule)
    : sim_(sim), listener_(listener), spec_(spec), schedule_(schedule) {
  if (threads < 1) throw std::invalid_argument("CpuPool: at least one thread is needed");
  cores_.resize(threads);
  core_queue_.resize(threads);
  share_by_readers_.assign(threads + 1, 0.0);
  for (int k = 1; k <= threads; ++k) share_by_readers_[k] = cpu_bandwidth(spec_, k) / k;
}

void CpuPool::bind(std::vector<Op>* ops, const std::vector<CpuTask>* tasks) {
  ops_ = ops;
  tasks_ = tasks;
  if (batches_.size() < ops->size()) batches_.resize(ops->size());
}

bool CpuPool::idle() const {
  if (!shared_queue_.empty()) return false;
  for (const auto& q : core_queue_)
    if (!q.empty()) return false;
  for (const Core& c : cores_)
    if (c.phase != Phase::Idle) return false;
  return true;
}

void CpuPool::submit(OpId id) {
  Op& op = (*ops_)[id];
  op.start = sim_.now();
  listener_.op_started(id);
  const uint32_t n = op.task_end - op.task_begin;
  if (n == 0) {  // nothing to do: done at once
    op.end = sim_.now();
    listener_.op_finished(id);
    return;
  }
  BatchState& b = batches_[id];
  b.left = n;
  b.core_busy.assign(cores_.size(), 0);
  for (uint32_t i = 0; i < n; ++i) {
    const WorkItem w{id, op.task_begin + i};
    if (schedule_ == CpuSchedule::Dynamic)
      shared_queue_.push_back(w);
    else
      core_queue_[i % cores_.size()].push_back(w);
  }
  dispatch_idle();
  if (readers_changed_) rebalance();
  reschedule();
}

bool CpuPool::take_work(int core, WorkItem& out) {
  auto& q = schedule_ == CpuSchedule::Dynamic ? shared_queue_ : core_queue_[core];
  if (q.empty()) return false;
  out = q.front();
  q.pop_front();
  return true;
}

void CpuPool::start_task(int core, const WorkItem& w, bool was_parked) {
  Core& c = cores_[core];
  c.op = w.op;
  c.task = w.task;
  if (was_parked && spec_.wakeup_s > 0) {
    c.phase = Phase::Wake;
    c.phase_end = sim_.now() + duration_from_seconds(spec_.wakeup_s);
    return;
  }
  begin_work(core);
}

void CpuPool::begin_work(int core) {
  Core& c = cores_[core];
  const SimTime now = sim_.now();
  c.task_start = now;
  const CpuTask& t = (*tasks_)[c.task];
  // Fixed part first: per-task overhead, plus the whole compute time of a task that reads nothing.
  double fixed = spec_.task_overhead_s;
  if (t.bytes + t.gather_bytes <= 0 && t.flops > 0) fixed += t.flops / spec_.flops_per_core;
  if (fixed > 0) {
    c.phase = Phase::Overhead;
    c.phase_end = now + duration_from_seconds(fixed);
    return;
  }
  begin_read(core);
}

void CpuPool::begin_read(int core) {
  Core& c = cores_[core];
  const SimTime now = sim_.now();
  const CpuTask& t = (*tasks_)[c.task];
  c.phase = Phase::Memory;
  const double bytes = t.bytes + t.gather_bytes / spec_.gather_efficiency;
  if (bytes <= 0) {  // nothing to read: the task ends now
    c.reading = false;
    c.phase_end = now;
    return;
  }
  c.reading = true;
  c.cap = t.flops > 0 ? bytes * spec_.flops_per_core / t.flops : std::numeric_limits<double>::infinity();
  c.flow.start(bytes, now);
  c.phase_end = kNever;  // set by rebalance
  ++readers_;
  readers_changed_ = true;
}

void CpuPool::finish_task(int core) {
  Core& c = cores_[core];
  const SimTime now = sim_.now();
  if (c.reading) {
    c.reading = false;
    --readers_;
    readers_changed_ = true;
  }
  const SimTime busy = now - c.task_start;
  core_busy_ += busy;
  BatchState& b = batches_[c.op];
  b.core_busy[core] += busy;
  if (spans_) spans_->task_span(core, c.op, c.task_start, now);
  if (--b.left == 0) {
    SimTime mx = 0, sum = 0;
    for (SimTime x : b.core_busy) {
      mx = std::max(mx, x);
      sum += x;
    }
    if (sum > 0) {
      imbalance_sum_ += static_cast<double>(mx) * cores_.size() / static_cast<double>(sum);
      ++batches_done_;
    }
    (*ops_)[c.op].end = now;
    finished_batches_.push_back(c.op);
  }
  c.phase = Phase::Idle;
  c.op = kNoOp;
  WorkItem w;
  if (take_work(core, w)) start_task(core, w, /*was_parked=*/false);
}

void CpuPool::dispatch_idle() {
  for (int i = 0; i < static_cast<int>(cores_.size()); ++i) {
    if (cores_[i].phase != Phase::Idle) continue;
    WorkItem w;
    if (take_work(i, w)) start_task(i, w, /*was_parked=*/true);
  }
}

void CpuPool::rebalance() {
  readers_changed_ = false;
  if (readers_ == 0) return;
  const SimTime now = sim_.now();
  const double share = share_by_readers_[std::min<int>(readers_, static_cast<int>(cores_.size()))];
  for (Core& c : cores_) {
    if (!c.reading) continue;
    const double r = std::min(share, c.cap);
    if (r != c.flow.rate || c.phase_end == kNever) {
      c.flow.set_rate(r, now);
      c.phase_end = c.flow.finish;
    }
  }
}

void CpuPool::reschedule() {
  SimTime next = kNever;
  for (const Core& c : cores_)
    if (c.phase != Phase::Idle) next = std::min(next, c.phase_end);
  if (next == kNever || next == scheduled_) return;
  scheduled_ = next;
  sim_.schedule_at(next, this, ++generation_);
}

void CpuPool::on_event(uint64_t generation) {
  if (generation != generation_) return;  // superseded
  scheduled_ = kNever;
  const SimTime now = sim_.now();
  // Cores are visited in index order, so simultaneous transitions resolve the same way every run. A phase
  // that ends now and is followed by a zero-length one is handled in the same pass.
  for (int i = 0; i < static_cast<int>(cores_.size()); ++i) {
    Core& c = cores_[i];
    while (c.phase != Phase::Idle && c.phase_end <= now) {
      if (c.phase == Phase::Wake) {
        begin_work(i);
      } else if (c.phase == Phase::Overhead) {
        begin_read(i);
      } else {
        finish_task(i);  // may start the core's next task
      }
    }
  }
  if (readers_changed_) rebalance();
  // Readers whose rate changed may now finish at `now` (a zero remainder); they are picked up next event.
  reschedule();
  if (!finished_batches_.empty()) {
    std::vector<OpId> done;
    done.swap(finished_batches_);
    std::sort(done.begin(), done.end());
    for (OpId id : done) listener_.op_finished(id);
  }
}

}  // namespace hgca
