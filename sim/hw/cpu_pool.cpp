#include "sim/hw/cpu_pool.hpp"

#include <algorithm>
#include <functional>
#include <limits>
#include <stdexcept>

#include "sim/hw/llc_residency.hpp"

namespace hgca {

namespace {
double curve_bandwidth(const std::vector<std::pair<int, double>>& pts, int threads) {
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
}  // namespace

double cpu_bandwidth(const CpuSpec& spec, int threads) { return curve_bandwidth(spec.bandwidth_by_threads, threads); }
double socket_bandwidth(const CpuSpec& spec, int threads) {
  return curve_bandwidth(spec.socket_bandwidth_by_threads, threads);
}

CpuPool::CpuPool(Simulator& sim, OpListener& listener, const CpuSpec& spec, int threads, CpuSchedule schedule)
    : sim_(sim), listener_(listener), spec_(spec), schedule_(schedule) {
  if (threads < 1) throw std::invalid_argument("CpuPool: at least one thread is needed");
  cores_.resize(threads);
  core_queue_.resize(threads);
  const bool numa = spec_.sockets > 1 && !spec_.socket_bandwidth_by_threads.empty();
  const int sockets = numa ? std::min(spec_.sockets, threads) : 1;
  domains_.resize(sockets);
  domain_of_.resize(threads);
  std::vector<int> size(sockets, 0);
  for (int i = 0; i < threads; ++i) ++size[domain_of_[i] = static_cast<int>(int64_t(i) * sockets / threads)];
  for (int d = 0; d < sockets; ++d) {
    domains_[d].share_by_readers.assign(size[d] + 1, 0.0);
    for (int k = 1; k <= size[d]; ++k)
      domains_[d].share_by_readers[k] = (numa ? socket_bandwidth(spec_, k) : cpu_bandwidth(spec_, k)) / k;
  }
  wakeup_ = duration_from_seconds(spec_.wakeup_s);
  overhead_ = duration_from_seconds(spec_.task_overhead_s);
}

void CpuPool::bind(std::vector<Op>* ops, const std::vector<CpuTask>* tasks) {
  ops_ = ops;
  tasks_ = tasks;
  if (batches_.size() < ops->size()) batches_.resize(ops->size());
}

bool CpuPool::idle() const {
  if (!shared_queue_.empty() || host_holds_) return false;
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
  advance_service();
  dispatch_idle();
  reschedule();
}

bool CpuPool::take_work(int core, WorkItem& out) {
  if (host_blocks(core)) return false;
  auto& q = schedule_ == CpuSchedule::Dynamic ? shared_queue_ : core_queue_[core];
  if (q.empty()) return false;
  out = q.front();
  q.pop_front();
  return true;
}

void CpuPool::start_task(int core, const WorkItem& w, bool was_parked, int wake_rank) {
  Core& c = cores_[core];
  c.op = w.op;
  c.task = w.task;
  const SimTime wake = was_parked ? wakeup_ + duration_from_seconds(wake_rank * spec_.wakeup_stagger_s) : 0;
  if (wake > 0) {
    c.phase = Phase::Wake;
    c.phase_end = sim_.now() + wake;
    return;
  }
  begin_work(core);
}

void CpuPool::begin_work(int core) {
  Core& c = cores_[core];
  const SimTime now = sim_.now();
  c.task_start = now;
  // The per-task overhead and the selection's per-key work: time on this core alone, not a share of DRAM
  // bandwidth, so it is a phase before the read.
  const CpuTask& t = (*tasks_)[c.task];
  const double extra = t.select_keys * spec_.select_key_cost_s;
  const SimTime overhead = overhead_ + (extra > 0 ? duration_from_seconds(extra) : 0);
  if (overhead > 0) {
    c.phase = Phase::Overhead;
    c.phase_end = now + overhead;
    return;
  }
  begin_read(core);
}

void CpuPool::begin_read(int core) {
  Core& c = cores_[core];
  const SimTime now = sim_.now();
  const CpuTask& t = (*tasks_)[c.task];
  c.read_start = now;
  const double bytes = (t.bytes + t.gather_bytes / spec_.gather_efficiency) * llc_scale(t);
  if (bytes <= 0) {  // nothing to read: straight to the floor (or done)
    c.phase = Phase::Compute;
    c.phase_end = now + duration_from_seconds(floor_seconds(t));
    return;
  }
  // The domain's clock is current: every caller advanced it to now before changing the set of readers.
  Domain& d = domains_[domain_of_[core]];
  c.phase = Phase::Memory;
  c.reading = true;
  c.target = d.service + bytes;
  d.heap.emplace_back(c.target, core);
  std::push_heap(d.heap.begin(), d.heap.end(), std::greater<>());
  ++d.readers;
  d.share = d.share_by_readers[std::min<int>(d.readers, static_cast<int>(d.share_by_readers.size()) - 1)];
}

void CpuPool::advance_service() {
  const SimTime now = sim_.now();
  for (Domain& d : domains_) {
    if (now > d.service_at && d.readers > 0) d.service += d.share * to_seconds(now - d.service_at);
    d.service_at = now;
  }
}

SimTime CpuPool::read_finish(const Domain& d, double target) {
  const double left = target - d.service;
  if (left <= 0) return d.service_at;
  // A share of next to nothing (a fit trying a bandwidth at its lower bound) would take longer than the clock
  // can count: such a read ends at a far but finite horizon (2.5 hours; a thousand of them in a row still fit
  // the clock), so the step completes, absurdly late, instead of overflowing.
  constexpr SimTime kHorizon = kNever / 1024;
  return d.service_at + std::min(duration_from_seconds(left / d.share), kHorizon);
}

double CpuPool::llc_hit(const CpuTask& t) const {
  if (!(t.llc == memo_reads_) || reuse_period_s_ != memo_period_) {
    memo_reads_ = t.llc;
    memo_period_ = reuse_period_s_;
    memo_hit_ = llc_hit_share(spec_.llc_bytes, spec_.llc_residency_s, t.llc, reuse_period_s_);
  }
  return memo_hit_;
}

double CpuPool::llc_scale(const CpuTask& t) const {
  if (!(spec_.llc_bytes > 0) || !(t.llc.working_set > 0)) return 1.0;
  const double hit = llc_hit(t);
  return 1.0 - hit + hit / spec_.llc_bandwidth_factor;
}

double CpuPool::floor_seconds(const CpuTask& t) const {
  return std::max(t.flops / spec_.flops_per_core, t.gather_rows * spec_.row_cost_s * llc_scale(t));
}

bool CpuPool::acquire_for_host(std::function<void()> on_free) {
  if (host_core_ < 0) return true;
  if (cores_[host_core_].phase == Phase::Idle) {
    host_holds_ = true;
    return true;
  }
  host_waiting_ = true;
  host_on_free_ = std::move(on_free);
  return false;
}

void CpuPool::release_from_host() {
  host_holds_ = false;
  WorkItem w;
  if (cores_[host_core_].phase == Phase::Idle && take_work(host_core_, w)) {
    advance_service();
    start_task(host_core_, w, /*was_parked=*/false);
    arm(host_core_);
    reschedule();
  }
}

void CpuPool::finish_task(int core) {
  Core& c = cores_[core];
  const SimTime now = sim_.now();
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
  if (core == host_core_ && host_waiting_) {  // the host thread was waiting for this core: it runs now
    host_waiting_ = false;
    host_holds_ = true;
    handoff_ = true;
    return;
  }
  WorkItem w;
  if (take_work(core, w)) start_task(core, w, /*was_parked=*/false);
}

void CpuPool::dispatch_idle() {
  int woken = 0;  // parked workers woken so far by this dispatch: each waits for the ones before it
  for (int i = 0; i < static_cast<int>(cores_.size()); ++i) {
    if (cores_[i].phase != Phase::Idle) continue;
    WorkItem w;
    if (take_work(i, w)) {
      start_task(i, w, /*was_parked=*/true, woken++);
      arm(i);
    }
  }
}

void CpuPool::arm(int core) {
  const Core& c = cores_[core];
  if (c.phase == Phase::Idle || c.reading) return;
  timed_.emplace_back(c.phase_end, core);
  std::push_heap(timed_.begin(), timed_.end(), std::greater<>());
}

void CpuPool::reschedule() {
  SimTime next = timed_.empty() ? kNever : timed_.front().first;
  for (const Domain& d : domains_)
    if (d.readers > 0) next = std::min(next, read_finish(d, d.heap.front().first));
  if (next == kNever || next == scheduled_) return;
  scheduled_ = next;
  sim_.schedule_at(next, this, ++generation_);
}

void CpuPool::on_event(uint64_t generation) {
  if (generation != generation_) return;  // superseded
  scheduled_ = kNever;
  const SimTime now = sim_.now();
  advance_service();
  // A reader is done when its domain's clock has reached its target; the slack absorbs rounding of the
  // finish time to whole picoseconds (well under a byte at any realistic bandwidth).
  // Cores are handled in index order, so simultaneous transitions resolve the same way every run. Readers
  // that finish leave the shared bandwidth before anyone else's share is used again.
  due_.clear();
  for (Domain& d : domains_) {
    const double slack = d.share * 2e-12 + 1e-9 * d.service;
    while (!d.heap.empty() && d.heap.front().first <= d.service + slack) {
      due_.push_back(d.heap.front().second);
      std::pop_heap(d.heap.begin(), d.heap.end(), std::greater<>());
      d.heap.pop_back();
    }
  }
  std::sort(due_.begin(), due_.end());
  for (int i : due_) {
    Core& c = cores_[i];
    c.reading = false;
    --domains_[domain_of_[i]].readers;
    const CpuTask& t = (*tasks_)[c.task];
    const SimTime compute_end = c.read_start + duration_from_seconds(floor_seconds(t));
    c.phase = Phase::Compute;
    c.phase_end = std::max(now, compute_end);
    arm(i);
  }
  for (Domain& d : domains_)
    if (d.readers > 0)
      d.share = d.share_by_readers[std::min<int>(d.readers, static_cast<int>(d.share_by_readers.size()) - 1)];
  due_.clear();
  while (!timed_.empty() && timed_.front().first <= now) {
    due_.push_back(timed_.front().second);
    std::pop_heap(timed_.begin(), timed_.end(), std::greater<>());
    timed_.pop_back();
  }
  std::sort(due_.begin(), due_.end());
  for (int i : due_) {
    Core& c = cores_[i];
    while (c.phase != Phase::Idle && !c.reading && c.phase_end <= now) {
      if (c.phase == Phase::Wake) {
        begin_work(i);
      } else if (c.phase == Phase::Overhead) {
        begin_read(i);
      } else {
        finish_task(i);  // Compute floor over: may start the core's next task
      }
    }
    arm(i);
  }
  reschedule();
  if (handoff_) {  // the host thread takes its core
    handoff_ = false;
    auto on_free = std::move(host_on_free_);
    host_on_free_ = nullptr;
    if (on_free) on_free();
  }
  if (!finished_batches_.empty()) {
    std::vector<OpId> done;
    done.swap(finished_batches_);
    std::sort(done.begin(), done.end());
    for (OpId id : done) listener_.op_finished(id);
  }
}

}  // namespace hgca
