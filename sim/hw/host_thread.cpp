#include "sim/hw/host_thread.hpp"

namespace hgca {

void HostThread::submit(OpId id) {
  ready_.push_back(id);
  start_next();
}

void HostThread::start_next() {
  if (running_ || acquiring_ || ready_.empty()) return;
  if (core_ && !holding_) {
    acquiring_ = true;
    wait_since_ = sim_.now();
    if (!core_->acquire_for_host([this] {
          acquiring_ = false;
          holding_ = true;
          core_wait_ += sim_.now() - wait_since_;
          run_front();
        }))
      return;
    acquiring_ = false;
    holding_ = true;
  }
  run_front();
}

void HostThread::run_front() {
  if (running_ || ready_.empty()) return;
  const OpId id = ready_.front();
  ready_.pop_front();
  running_ = true;
  Op& op = (*ops_)[id];
  const SimTime d = duration_from_seconds(cost_(op));
  op.start = sim_.now();
  op.end = op.start + d;
  busy_ += d;
  listener_.op_started(id);
  sim_.schedule_at(op.end, this, id);
}

void HostThread::on_event(uint64_t payload) {
  running_ = false;
  listener_.op_finished(static_cast<OpId>(payload));  // may submit successors; they queue behind what is ready
  if (!running_ && ready_.empty() && holding_) {  // nothing to do: the thread blocks and its core goes back to the workers
    holding_ = false;
    core_->release_from_host();
  }
  start_next();
}

}  // namespace hgca
