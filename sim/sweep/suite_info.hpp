// What a suite says about itself for the results file. The figures a suite is made for are declared in its
// free-text `description`, on a line of their own:
//
//   description: |
//     Decode throughput against context length, every strategy.
//     figures: throughput_vs_context, step_breakdown
//
// (a `figures:` key of the experiment file would be cleaner: see docs/EXPERIMENTS.md). The names are the
// figure names of analysis/figures; `python3 -m analysis.plot` draws those, or every figure the results
// support when a suite declares none.
#pragma once

#include <string>
#include <vector>

#include "sim/config/experiment.hpp"
#include "sim/results/hdf5.hpp"

namespace hgca {

// The names on the description's `figures:` line, in order; empty when there is none. Throws
// std::invalid_argument (one line) when a name is not a lower-case identifier [a-z0-9_].
std::vector<std::string> declared_figures(const std::string& description);

// Root attributes of the results file of a sweep: the experiment's description and declared figures.
ResultsFileInfo results_file_info(const Experiment& first_point, const std::string& tool_version);

}  // namespace hgca
