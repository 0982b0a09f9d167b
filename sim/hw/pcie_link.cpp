#include "sim/hw/pcie_link.hpp"

#include <algorithm>

namespace hgca {

PcieLink::PcieLink(Simulator& sim, OpListener& listener, const PcieSpec& spec)
    : sim_(sim), listener_(listener), spec_(spec) {
  if (spec_.copy_engines_per_direction < 1) spec_.copy_engines_per_direction = 1;
}

void PcieLink::submit(OpId id) {
  const Op& op = (*ops_)[id];
  waiting_[dir_of(op.unit)].push_back(id);
  admit();
  rebalance();
  reschedule();
}

void PcieLink::mark_busy(int dir, bool now_busy) {
  if (now_busy) {
    busy_since_[dir] = sim_.now();
  } else {
    busy_[dir] += sim_.now() - busy_since_[dir];
  }
}

void PcieLink::admit() {
  const SimTime now = sim_.now();
  for (int d = 0; d < 2; ++d) {
    while (!waiting_[d].empty() && active_count_[d] < spec_.copy_engines_per_direction) {
      const OpId id = waiting_[d].front();
      waiting_[d].pop_front();
      Op& op = (*ops_)[id];
      op.start = now;
      const LinkDirectionSpec& ds = d == 0 ? spec_.h2d : spec_.d2h;
      Transfer t{id, d, op.pageable, false, now + duration_from_seconds(ds.latency_s), {}};
      if (active_count_[d]++ == 0) mark_busy(d, true);
      active_.push_back(t);
      listener_.op_started(id);
    }
  }
}

void PcieLink::rebalance() {
  const SimTime now = sim_.now();
  int data[2] = {0, 0};
  for (const Transfer& t : active_)
    if (t.in_data) ++data[t.dir];
  const double bw[2] = {spec_.h2d.bandwidth, spec_.d2h.bandwidth};
  double scale = 1.0;
  if (data[0] > 0 && data[1] > 0 && spec_.duplex_bandwidth > 0 && bw[0] + bw[1] > spec_.duplex_bandwidth)
    scale = spec_.duplex_bandwidth / (bw[0] + bw[1]);
  for (Transfer& t : active_) {
    if (!t.in_data) continue;
    double r = bw[t.dir] * scale / data[t.dir];
    if (t.pageable && spec_.pageable_bandwidth > 0) r = std::min(r, spec_.pageable_bandwidth);
    if (r != t.flow.rate || t.flow.finish == kNever) t.flow.set_rate(r, now);
  }
}

void PcieLink::reschedule() {
  SimTime next = kNever;
  for (const Transfer& t : active_) next = std::min(next, t.in_data ? t.flow.finish : t.latency_end);
  if (next == kNever || next == scheduled_) return;
  scheduled_ = next;
  sim_.schedule_at(next, this, ++generation_);
}

void PcieLink::on_event(uint64_t generation) {
  if (generation != generation_) return;  // superseded by a later reschedule
  scheduled_ = kNever;
  const SimTime now = sim_.now();
  finished_scratch_.clear();
  for (size_t i = 0; i < active_.size();) {
    Transfer& t = active_[i];
    if (!t.in_data && t.latency_end <= now) {
      t.in_data = true;
      t.flow.start((*ops_)[t.op].bytes, now);
    }
    if (t.in_data && (t.flow.remaining <= 0 || t.flow.finish <= now)) {
      (*ops_)[t.op].end = now;
      finished_scratch_.push_back(t.op);
      if (--active_count_[t.dir] == 0) mark_busy(t.dir, false);
      active_[i] = active_.back();
      active_.pop_back();
      continue;
    }
    ++i;
  }
  // Keep a deterministic order among transfers regardless of the swap-removal above.
  std::sort(active_.begin(), active_.end(), [](const Transfer& a, const Transfer& b) { return a.op < b.op; });
  admit();
  rebalance();
  reschedule();
  std::sort(finished_scratch_.begin(), finished_scratch_.end());
  const std::vector<OpId> finished = finished_scratch_;
  for (OpId id : finished) listener_.op_finished(id);
}

double PcieLink::busy_seconds(Unit direction) const {
  const int d = dir_of(direction);
  SimTime b = busy_[d];
  if (active_count_[d] > 0) b += sim_.now() - busy_since_[d];
  return to_seconds(b);
}

}  // namespace hgca
