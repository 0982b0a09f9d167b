// Measuring grid points on the real hybrid runner (kernels/hybrid): HybridStep for attention points,
// ModelStep for decode-step points. Needs a CUDA build and a GPU.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "kernels/cpu/thread_pool.hpp"
#include "sim/validation/measured_table.hpp"

namespace hgca::validation {

// Empty when this build can measure on this machine; else one line saying what is missing.
std::string measure_unavailable();

struct MeasureOptions {
  std::ostream* log = nullptr;         // one progress line per point
  double host_memory_share = 0.8;      // skip a point whose CPU pool (a decode step: its copies) exceeds this share of MemAvailable
  // Sweeps over the whole list: each point is set up afresh in every pass and its timed steps of all
  // passes are pooled. A point's steps then span minutes and several allocations instead of one burst, so
  // what drifts on a shared machine (neighbours, page placement) averages out instead of biasing a point.
  int passes = 1;
  int worker_spin_us = static_cast<int>(kernels::kDefaultWorkerSpin.count());  // the runner's CPU workers (kernels/hybrid HybridConfig::worker_spin_us)
  bool huge_pages = true;     // the runner's CPU pool on transparent huge pages
  bool warm_pool = true;      // read the pool into the cache before the first step (kernels/hybrid HybridConfig::warm_pool)
  // Called after every pass with the rows of the passes so far (each row as measure_points would return it
  // after that many passes): `hgca validate measure` rewrites its table then, so that a call cut short by a
  // time limit keeps its completed passes (device run 16 lost two tables that way).
  std::function<void(int passes_done, const std::vector<MeasuredRow>& rows)> after_pass;
};

// Measures every point, `passes` times in interleaved sweeps (warm-up, then timed steps:
// repetitions_for(kind) per pass); points that do not fit this machine's memory are skipped with a log
// line. Throws std::runtime_error when the runner fails.
std::vector<MeasuredRow> measure_points(const std::vector<ValidationPoint>& points, const MeasureOptions& opts);

}  // namespace hgca::validation
