// Runs one experiment point: checks that it fits in memory, simulates prefill and every decode step on the
// machine model, and collects the figures. The glue between policy, engine and results.
#pragma once

#include "sim/config/experiment.hpp"
#include "sim/results/run_result.hpp"

namespace hgca {

struct SimulateOptions {
  int timeline_steps = 0;        // record a timeline of the first N decode steps (0 = none)
  bool timeline_prefill = false; // also record the prefill
};

// Never throws for an infeasible configuration (that is a result); throws std::runtime_error for inputs
// it cannot use (an unreadable selection profile, an unknown strategy).
RunResult simulate(const Experiment& exp, const SimulateOptions& opts = {});

}  // namespace hgca
