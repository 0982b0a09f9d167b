// Measuring grid points on the real hybrid runner (kernels/hybrid): HybridStep for attention points,
// ModelStep for decode-step points. Needs a CUDA build and a GPU.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "sim/validation/measured_table.hpp"

namespace hgca::validation {

// Empty when this build can measure on this machine; else one line saying what is missing.
std::string measure_unavailable();

struct MeasureOptions {
  std::ostream* log = nullptr;         // one progress line per point
  double host_memory_share = 0.8;      // skip a point whose CPU pool exceeds this share of MemAvailable
};

// Measures every point in order (warm-up, then timed steps: repetitions_for(kind)); points that do not fit
// this machine's memory are skipped with a log line. Throws std::runtime_error when the runner fails.
std::vector<MeasuredRow> measure_points(const std::vector<ValidationPoint>& points, const MeasureOptions& opts);

}  // namespace hgca::validation
