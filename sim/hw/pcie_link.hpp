// The PCIe link between host and GPU: two directions, each with its own bandwidth and per-transfer latency.
//
// A transfer first pays the direction's latency (DMA setup and completion; no bandwidth used), then moves its
// bytes. Up to `copy_engines_per_direction` transfers of a direction run at once and share its bandwidth
// equally; further ones wait in order. Pageable transfers are capped at the pageable bandwidth. When both
// directions move data at once, their rates are scaled down together so the sum stays within the measured
// duplex bandwidth. A transfer alone therefore takes exactly latency + bytes / bandwidth.
#pragma once

#include <deque>
#include <vector>

#include "sim/config/experiment.hpp"
#include "sim/engine/simulator.hpp"
#include "sim/hw/fluid.hpp"
#include "sim/hw/unit.hpp"

namespace hgca {

class PcieLink : public EventTarget {
 public:
  PcieLink(Simulator& sim, OpListener& listener, const PcieSpec& spec);
  void bind(std::vector<Op>* ops) { ops_ = ops; }
  void submit(OpId id);
  double busy_seconds(Unit direction) const;
  bool idle() const { return active_.empty() && waiting_[0].empty() && waiting_[1].empty(); }
  void on_event(uint64_t generation) override;

 private:
  struct Transfer {
    OpId op;
    int dir;  // 0 = host to device, 1 = device to host
    bool pageable;
    bool in_data;
    SimTime latency_end;
    FluidFlow flow;
  };
  static int dir_of(Unit u) { return u == Unit::H2D ? 0 : 1; }
  void admit();
  void rebalance();
  void reschedule();
  void mark_busy(int dir, bool now_busy);

  Simulator& sim_;
  OpListener& listener_;
  PcieSpec spec_;
  std::vector<Op>* ops_ = nullptr;
  std::vector<Transfer> active_;
  std::deque<OpId> waiting_[2];
  int active_count_[2] = {0, 0};
  SimTime busy_since_[2] = {0, 0};
  SimTime busy_[2] = {0, 0};
  uint64_t generation_ = 0;
  SimTime scheduled_ = kNever;
  std::vector<OpId> finished_scratch_;
};

}  // namespace hgca
