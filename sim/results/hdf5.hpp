// Runs as an HDF5 file (layout in docs/RESULTS.md): root attributes identify the format, /runs/NNNN holds
// every scalar of one run as attributes plus its per-step latencies, /summary holds one column per tabular
// scalar so a plotting script reads the whole sweep in one go. Timelines are not stored (see timeline_json).
// Call from one thread at a time: the serial HDF5 library is not thread-safe.
#pragma once

#include <string>
#include <vector>

#include "sim/results/run_result.hpp"

namespace hgca {

inline constexpr const char* kResultsFormatName = "hgca-results";
inline constexpr int kResultsFormatVersion = 1;

// What a file says about itself as a whole, stored as root attributes.
struct ResultsFileInfo {
  std::string tool_version;
  std::string description;           // the experiment's description ("" = attribute not written)
  std::vector<std::string> figures;  // figure kinds the suite declares (empty = attribute not written)
};

// Atomic: see atomic_file.hpp. Throws std::runtime_error("cannot write <path>: ...") on failure.
void write_hdf5(const std::string& path, const std::vector<RunResult>& runs, const ResultsFileInfo& info);
void write_hdf5(const std::string& path, const std::vector<RunResult>& runs, const std::string& tool_version);

// Everything write_hdf5 stored, in run order (timelines empty; parameters and head selections included).
// Throws std::runtime_error("cannot read <path>: ...") naming the group and attribute when the file is
// missing, is not an hgca results file of a supported version, or lacks or mistypes an entry.
std::vector<RunResult> read_hdf5(const std::string& path);

}  // namespace hgca
