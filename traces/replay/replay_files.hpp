// Files a replay writes, both atomically (built in memory, then written to a temporary file and renamed):
//   results  every per-(layer, head, step) figure and the per-(layer, head) summaries (docs/REPLAY.md)
//   profile  the selection profile the simulator's hgca and fetch-topk strategies read
//            (docs/SELECTION_PROFILE.md; read by sim/policy/selection.cpp)
// Both throw std::runtime_error("cannot write PATH: ...") on failure, leaving no file behind.
#pragma once

#include <string>

#include "traces/replay/replay.hpp"

namespace hgca::traces {

inline constexpr const char* kReplayResultsFormat = "hgca-replay-results";
inline constexpr int kReplayResultsVersion = 1;
inline constexpr const char* kSelectionProfileFormat = "hgca-selection-profile";
inline constexpr int kSelectionProfileVersion = 2;

void write_replay_results(const ReplayResult& r, const std::string& path, const std::string& trace_label);
void write_selection_profile(const ReplayResult& r, const std::string& path, const std::string& trace_label);

}  // namespace hgca::traces
