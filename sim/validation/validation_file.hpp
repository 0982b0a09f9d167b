// The HDF5 file `hgca validate predict --out` writes (layout in docs/VALIDATION.md), read by
// analysis/validation_plot.py:
//   /            attributes format = "hgca-validation", version = 1, hardware, hardware_source, measured_file
//   /rows/<col>  one 1-D dataset per column, a row per measured point (strings variable-length UTF-8);
//                error is (predicted - measured) / measured, NaN where the simulator found the point infeasible
//   /summary/<col>  role, kind, count, median_abs_error, p90_abs_error
#pragma once

#include <string>
#include <vector>

#include "sim/validation/prediction.hpp"

namespace hgca::validation {

struct ValidationFileInfo {
  std::string hardware, hardware_source, measured_file;
};

// Atomic: a temporary beside `path`, renamed over it when complete. Throws std::runtime_error naming the path.
void write_validation_file(const std::string& path, const ValidationFileInfo& info, const std::vector<PredictedRow>& rows,
                           const std::vector<ErrorSummary>& summary, const std::vector<std::string>& experiment_yaml);

}  // namespace hgca::validation
