// The fit report (what was fitted, to what precision, what the data could not determine, the error per
// primitive) as text, and the calibrated profile file that carries it in comments.
#pragma once

#include <string>
#include <vector>

#include "sim/calibration/fit.hpp"

namespace hgca {

struct CalibrationStamp {
  std::string measurements;  // the measurements file, as given
  std::string base;          // the base profile reference, as given
  std::string date;          // UTC, ISO 8601
  std::string command;       // the command line that wrote the profile
};

// Parameter table: base, fitted, one standard error, and fitted / kept-with-reason.
std::string parameter_table(const FitResult& fit);
// The CPU part's starts (FitResult::cpu_starts): start, objective reached, where it ended, which was kept.
// Empty when the CPU part had one start.
std::string start_table(const FitResult& fit);
// Error per primitive: rows, RMS and largest relative error, the line of the worst row.
std::string error_table(const std::vector<RowResult>& rows);
// One line per row: line, primitive, shape, measured, predicted, error.
std::string row_table(const std::vector<RowResult>& rows);

// The profile file: a comment header with the stamp and the fit report, then the profile in the loader's
// schema with `name`, `source` (measurements, date, base, what was fitted) and `calibrated` (true only when
// every timing parameter was determined by the measurements).
std::string calibrated_profile_yaml(const FitResult& fit, const std::string& name, const CalibrationStamp& stamp);

// Checks that `yaml` loads as a hardware profile (throws ConfigError otherwise), then writes it to `path`
// atomically (temporary file + rename; nothing is left behind on failure).
void write_profile(const std::string& path, const std::string& yaml);

}  // namespace hgca
