// Shared by the hand-computed step tests: one decode step of a strategy on a fresh machine, and a GPU
// kernel's modelled time, so every test computes both the same way as the simulator does.
#pragma once

#include "sim/engine/simulator.hpp"
#include "sim/hw/gpu_cost.hpp"
#include "sim/hw/machine.hpp"
#include "sim/model/model_costs.hpp"
#include "sim/policy/strategy.hpp"

namespace hgca::test {

inline double kernel(const HardwareProfile& hw, KernelKind k, const Cost& c) {
  return gpu_kernel_seconds(hw.gpu, k, c.flops, c.bytes);
}

// The operation graph the strategy builds for one decode step with every sequence at prompt + 1 tokens.
inline StepGraph decode_step_graph(const Experiment& e) {
  const ModelCosts costs(e.model);
  const SelectionModel sel(e.system.selection, e.model, e.seed);
  const StrategyContext ctx{e, costs, sel};
  auto s = make_strategy(ctx);
  StepGraph g;
  DecodeStep step;
  step.contexts.assign(e.workload.batch, e.workload.prompt + 1);
  s->build_decode_step(step, g);
  return g;
}

// Simulated seconds of that step on a fresh machine.
inline double simulate_step(const Experiment& e) {
  Simulator sim;
  Machine m(sim, e.hardware, e.hardware.cpu.cores, e.system.cpu_schedule);
  StepGraph g = decode_step_graph(e);
  return to_seconds(m.execute(g));
}

}  // namespace hgca::test
