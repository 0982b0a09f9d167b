// What a figure needs about a run beyond what the runner measures: the configuration values it may be plotted
// against (parameters) and each head's selection budget. Both come from the experiment point itself.
#pragma once

#include "sim/config/experiment.hpp"
#include "sim/results/run_result.hpp"

namespace hgca {

// The fixed list of parameters (docs/RESULTS.md, "/parameters"), in SI units, for any point.
std::vector<Parameter> point_parameters(const Experiment& point);

// Per-(layer, query head) selected fraction for strategies that select on the CPU (hgca, fetch-topk); empty
// for the others. A top-k budget is shown as top_k / CPU-resident entries at the start of decoding.
// Throws std::runtime_error when the selection profile cannot be read (as simulate() would).
HeadSelection point_head_selection(const Experiment& point);

// Both of the above, stored into `run`.
void add_point_details(const Experiment& point, RunResult& run);

}  // namespace hgca
