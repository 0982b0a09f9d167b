#include "sim/hw/serial_engine.hpp"

namespace hgca {

void SerialEngine::submit(OpId id) {
  ready_.push_back(id);
  if (!running_) start_next();
}

void SerialEngine::start_next() {
  if (running_ || ready_.empty()) return;
  current_ = ready_.front();
  ready_.pop_front();
  running_ = true;
  Op& op = (*ops_)[current_];
  const SimTime d = duration_from_seconds(cost_(op));
  op.start = sim_.now();
  op.end = op.start + d;
  busy_ += d;
  listener_.op_started(current_);
  sim_.schedule_at(op.end, this, current_);
}

void SerialEngine::on_event(uint64_t payload) {
  const OpId done = static_cast<OpId>(payload);
  running_ = false;
  current_ = kNoOp;
  listener_.op_finished(done);  // may submit successors here; they queue behind what is ready
  start_next();
}

}  // namespace hgca
