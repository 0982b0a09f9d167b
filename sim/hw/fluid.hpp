// A flow of work drained at a rate that can change over time (bytes at a shared bandwidth).
// Between rate changes progress is linear, so only a change needs settling; the finish time is recomputed
// from what remains. The finish time is authoritative: when it comes, the flow is done.
#pragma once

#include "sim/engine/time.hpp"

namespace hgca {

struct FluidFlow {
  double remaining = 0;  // work units (bytes) left as of `last`
  double rate = 0;       // work units per second
  SimTime last = 0;
  SimTime finish = kNever;

  void start(double work, SimTime now) {
    remaining = work;
    rate = 0;
    last = now;
    finish = kNever;
  }
  void settle(SimTime now) {
    if (now > last) {
      remaining -= rate * to_seconds(now - last);
      if (remaining < 0) remaining = 0;
      last = now;
    }
  }
  void set_rate(double r, SimTime now) {
    settle(now);
    rate = r;
    finish = remaining <= 0 ? now : (r > 0 ? now + duration_from_seconds(remaining / r) : kNever);
  }
};

}  // namespace hgca
