// The discrete-event core: a clock and the pending events. It knows nothing of GPUs, links or attention.
//
// Models change simulated state only from inside on_event(), which the simulator calls in (time, seq) order;
// that single path is what makes runs reproducible. A model that needs "cancel" keeps a generation counter in
// the payload and ignores stale events when they surface (cancel by flag).
#pragma once

#include <cstdint>
#include <stdexcept>

#include "sim/engine/event_queue.hpp"

namespace hgca {

class Simulator {
 public:
  SimTime now() const { return now_; }

  void schedule_at(SimTime t, EventTarget* target, uint64_t payload = 0) {
    if (t < now_) throw std::logic_error("Simulator: event scheduled in the past");
    queue_.push(Event{t, next_seq_++, target, payload});
  }
  void schedule_in(SimTime dt, EventTarget* target, uint64_t payload = 0) { schedule_at(now_ + dt, target, payload); }

  // Runs the next event; false when none is pending.
  bool step() {
    if (queue_.empty()) return false;
    const Event e = queue_.pop();
    now_ = e.time;  // never goes backwards: schedule_at refuses the past and the heap pops in order
    ++processed_;
    e.target->on_event(e.payload);
    return true;
  }
  // Runs until no event is pending.
  void run() {
    while (step()) {
    }
  }
  // Runs every event with time <= t, then sets the clock to t.
  void run_until(SimTime t) {
    while (!queue_.empty() && queue_.top().time <= t) step();
    if (t > now_) now_ = t;
  }

  uint64_t events_processed() const { return processed_; }
  size_t pending() const { return queue_.size(); }
  size_t queue_capacity() const { return queue_.capacity(); }

 private:
  SimTime now_ = 0;
  uint64_t next_seq_ = 0;
  uint64_t processed_ = 0;
  EventQueue queue_;
};

}  // namespace hgca
