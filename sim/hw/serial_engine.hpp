// A unit that runs one op at a time, in the order ops became ready (ties: earlier op first).
// Used for the GPU's compute engine (kernels of all streams share the SMs; decode kernels fill the GPU, so
// they are modelled as not overlapping) and for the host thread that launches kernels.
#pragma once

#include <deque>
#include <functional>
#include <vector>

#include "sim/engine/simulator.hpp"
#include "sim/hw/unit.hpp"

namespace hgca {

class SerialEngine : public EventTarget {
 public:
  using CostFn = std::function<double(const Op&)>;  // seconds
  SerialEngine(Simulator& sim, OpListener& listener, CostFn cost)
      : sim_(sim), listener_(listener), cost_(std::move(cost)) {}

  void bind(std::vector<Op>* ops) { ops_ = ops; }
  void submit(OpId id);
  double busy_seconds() const { return to_seconds(busy_); }
  bool idle() const { return !running_ && ready_.empty(); }

  void on_event(uint64_t payload) override;

 private:
  void start_next();
  Simulator& sim_;
  OpListener& listener_;
  CostFn cost_;
  std::vector<Op>* ops_ = nullptr;
  std::deque<OpId> ready_;
  bool running_ = false;
  OpId current_ = kNoOp;
  SimTime busy_ = 0;
};

}  // namespace hgca
