// The simulated machine: host thread, GPU compute engine, PCIe link and CPU cores, wired to one simulator.
// It executes StepGraphs: tracks dependencies, hands ready ops to their unit, and accounts busy time.
#pragma once

#include <memory>
#include <vector>

#include "sim/config/experiment.hpp"
#include "sim/engine/simulator.hpp"
#include "sim/hw/cpu_pool.hpp"
#include "sim/hw/host_thread.hpp"
#include "sim/hw/op_graph.hpp"
#include "sim/hw/pcie_link.hpp"
#include "sim/hw/serial_engine.hpp"

namespace hgca {

// Receives every op (and every CPU task) that ran, for timelines. `lane` is the CPU core for CPU tasks.
class SpanRecorder {
 public:
  virtual void span(const Op& op, int lane, SimTime start, SimTime end) = 0;

 protected:
  ~SpanRecorder() = default;
};

class Machine : private OpListener, private TaskSpanSink {
 public:
  // With host.shares_cpu_core and as many workers as cores, the host thread shares the last worker's core.
  Machine(Simulator& sim, const HardwareProfile& hw, int cpu_threads, CpuSchedule schedule);

  // Runs `graph` to completion from the current simulated time and returns its makespan.
  // Throws std::logic_error if the graph cannot complete (a dependency cycle or a lost op).
  // The makespan becomes the next graph's cache reuse period: successive graphs are successive steps, each
  // reading the CPU-resident KV the one before read (sim/hw/llc_residency.hpp).
  SimTime execute(StepGraph& graph);
  // The reuse period the next graph's CPU tasks assume (seconds; 0 = unknown, the cache term's knee): for a
  // first step, which has no previous one (see steady_reuse_period in sim/runner/simulate.hpp).
  void set_reuse_period(double seconds) { cpu_.set_reuse_period(seconds); }
  double reuse_period() const { return cpu_.reuse_period(); }

  void set_recorder(SpanRecorder* r) { recorder_ = r; }

  double gpu_busy() const { return gpu_.busy_seconds(); }
  double host_busy() const { return host_.busy_seconds(); }
  double host_core_wait() const { return host_.core_wait_seconds(); }
  bool host_shares_worker_core() const { return shares_core_; }
  double h2d_busy() const { return link_.busy_seconds(Unit::H2D); }
  double d2h_busy() const { return link_.busy_seconds(Unit::D2H); }
  double cpu_core_seconds() const { return cpu_.core_seconds(); }
  double cpu_imbalance() const { return cpu_.mean_imbalance(); }
  int cpu_threads() const { return cpu_.threads(); }
  Simulator& sim() { return sim_; }

 private:
  void op_started(OpId id) override;
  void op_finished(OpId id) override;
  void task_span(int core, OpId op, SimTime start, SimTime end) override;
  void make_ready(OpId id);

  Simulator& sim_;
  HardwareProfile hw_;
  HostThread host_;
  SerialEngine gpu_;
  PcieLink link_;
  CpuPool cpu_;
  bool shares_core_ = false;
  StepGraph* graph_ = nullptr;
  size_t done_ = 0;
  SpanRecorder* recorder_ = nullptr;
};

// The reuse period of a step run back to back with copies of itself (a steady decode loop): the fixed point of
// period = makespan, iterated from the knee (period 0) in scratch executions on fresh machines until a round
// changes it by at most `tolerance` of itself (or `max_rounds` rounds); `graph` itself is not run. The
// tolerance is tight so that the period is a smooth function of the profile (a fit differentiates predictions
// numerically). 0 when the profile's cache term ignores the period (no cpu.llc_residency or no cache).
double steady_reuse_period(const HardwareProfile& hw, int cpu_threads, CpuSchedule schedule, const StepGraph& graph,
                           double tolerance = 1e-7, int max_rounds = 60);

}  // namespace hgca
