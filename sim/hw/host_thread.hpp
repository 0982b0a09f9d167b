// The host thread that drives the GPU: it launches every kernel, issues every copy and dispatches every batch
// of CPU tasks, one op at a time in program order, and waits at every synchronisation (a host op that depends
// on device work). When it shares a core with the CPU attention workers (host.shares_cpu_core with as many
// workers as cores), it must hold that core to run: it takes the core when the task running there ends and
// gives it back when it has nothing ready, so launches slip behind attention tasks and the GPU idles.
#pragma once

#include <deque>
#include <functional>
#include <vector>

#include "sim/engine/simulator.hpp"
#include "sim/hw/unit.hpp"

namespace hgca {

// A CPU core the host thread must hold to run (implemented by CpuPool).
class SharedCore {
 public:
  // True if the core is now held by the host; otherwise `on_free` is called once the core becomes free and
  // has been handed to the host.
  virtual bool acquire_for_host(std::function<void()> on_free) = 0;
  virtual void release_from_host() = 0;

 protected:
  ~SharedCore() = default;
};

class HostThread : public EventTarget {
 public:
  using CostFn = std::function<double(const Op&)>;  // seconds
  HostThread(Simulator& sim, OpListener& listener, CostFn cost) : sim_(sim), listener_(listener), cost_(std::move(cost)) {}

  void bind(std::vector<Op>* ops) { ops_ = ops; }
  void share_core(SharedCore* core) { core_ = core; }
  void submit(OpId id);
  double busy_seconds() const { return to_seconds(busy_); }
  // Time ready host ops spent waiting for the shared core.
  double core_wait_seconds() const { return to_seconds(core_wait_); }
  void on_event(uint64_t payload) override;

 private:
  void start_next();
  void run_front();
  Simulator& sim_;
  OpListener& listener_;
  CostFn cost_;
  SharedCore* core_ = nullptr;
  std::vector<Op>* ops_ = nullptr;
  std::deque<OpId> ready_;
  bool running_ = false;
  bool holding_ = false;   // holds the shared core
  bool acquiring_ = false; // asked for the shared core, waiting
  SimTime wait_since_ = 0;
  SimTime busy_ = 0, core_wait_ = 0;
};

}  // namespace hgca
