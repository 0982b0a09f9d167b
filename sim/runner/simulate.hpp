// Runs one experiment point: checks that it fits in memory, simulates prefill and every decode step on the
// machine model, and collects the figures. The glue between policy, engine and results.
#pragma once

#include "sim/config/experiment.hpp"
#include "sim/results/run_result.hpp"

namespace hgca {

struct SimulateOptions {
  int timeline_steps = 0;        // record a timeline of the first N decode steps (0 = none)
  bool timeline_prefill = false; // also record the prefill
  // The cache reuse period of every decode step (sim/hw/llc_residency.hpp): false, the previous step's
  // makespan (a first step with no prefill before it: its own, as in a steady loop); true, each step's own, as
  // if it were repeated back to back: a runner that times one configuration over and over (hgca validate).
  bool steady_reuse = false;
};

// Never throws for an infeasible configuration (that is a result); throws std::runtime_error for inputs
// it cannot use (an unreadable selection profile, an unknown strategy).
RunResult simulate(const Experiment& exp, const SimulateOptions& opts = {});

}  // namespace hgca
