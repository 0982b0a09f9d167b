// Timelines as Chrome Trace Event JSON (opens in Perfetto and chrome://tracing).
#pragma once

#include <string>
#include <vector>

#include "sim/results/run_result.hpp"

namespace hgca {

// One process per run that has timeline spans (pid = the run's index in `runs`, named "<strategy> <label>"),
// one thread per track with a stable order: host thread, GPU compute, PCIe H2D, PCIe D2H, CPU core 0..N (by
// core number), then any other track by name. Each span is an "X" (complete) event with ts and dur in
// microseconds (3 decimals, i.e. nanosecond resolution) and args {"step", "layer"}. Atomic: see
// atomic_file.hpp. A span with a non-finite time or a negative duration is an error (it would not be valid
// JSON or a valid trace): std::runtime_error naming `path`, the run and the span.
void write_timeline_json(const std::string& path, const std::vector<RunResult>& runs);

// Position of a track in the display order above, as (group, core number, name): smaller sorts first.
struct TrackOrder {
  int group = 0;
  long core = 0;
  std::string name;
  auto operator<=>(const TrackOrder&) const = default;
};
TrackOrder track_order(const std::string& track);

}  // namespace hgca
