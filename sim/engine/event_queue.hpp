// The pending-event set of the simulator: a binary min-heap ordered by (time, sequence number).
//
// The sequence number is part of the sort key, so the order is a contract, not an accident of the heap:
// events at equal times run in the order they were scheduled (first scheduled, first run). Events are small
// PODs that name a target and a payload; there is no per-event allocation and no std::function.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/engine/time.hpp"

namespace hgca {

class EventTarget {
 public:
  virtual void on_event(uint64_t payload) = 0;

 protected:
  ~EventTarget() = default;
};

struct Event {
  SimTime time;
  uint64_t seq;  // stable tie-break: scheduling order
  EventTarget* target;
  uint64_t payload;
};

inline bool runs_before(const Event& a, const Event& b) {
  return a.time != b.time ? a.time < b.time : a.seq < b.seq;
}

class EventQueue {
 public:
  void push(const Event& e);
  Event pop();  // precondition: !empty()
  const Event& top() const { return heap_[0]; }
  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  size_t capacity() const { return heap_.capacity(); }

 private:
  std::vector<Event> heap_;
};

}  // namespace hgca
