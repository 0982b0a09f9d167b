// Human-readable summary table of runs, for the terminal.
#pragma once

#include <iosfwd>
#include <vector>

#include "sim/results/run_result.hpp"

namespace hgca {

// One row per run: strategy, batch, context, window, decode tok/s, step p50 and p99 (ms), GPU/H2D/D2H/CPU
// busy shares (%), peak GPU and CPU memory (GiB), and "ok" or the infeasibility reason. Infeasible rows
// show "-" for every figure. Columns are as wide as their widest cell; the last column is never padded or
// truncated. Control characters in strings are shown as spaces so every run stays on one line.
void print_table(std::ostream& out, const std::vector<RunResult>& runs);

}  // namespace hgca
