// The contract between the Machine (which tracks dependencies) and the hardware units (which run ops).
// A unit is told when an op is ready and reports when the op starts and finishes; in between it owns the op.
#pragma once

#include "sim/hw/op_graph.hpp"

namespace hgca {

class OpListener {
 public:
  virtual void op_started(OpId id) = 0;
  virtual void op_finished(OpId id) = 0;

 protected:
  ~OpListener() = default;
};

// Receives one span per CPU task when a timeline is being recorded.
class TaskSpanSink {
 public:
  virtual void task_span(int core, OpId op, SimTime start, SimTime end) = 0;

 protected:
  ~TaskSpanSink() = default;
};

}  // namespace hgca
