// The raw tables of a calibration as HDF5 (`hgca calibrate --out` writes NAME.calibration.h5 beside the
// profile): one group per primitive holding one dataset per column the primitive uses, numeric columns as
// float64 and text columns (direction, memory, dtype, method, task, note) as UTF-8 strings; `time_s` is
// always there. The same rows as the measurements CSV, in a form h5py or MATLAB read directly.
#pragma once

#include <string>
#include <vector>

#include "sim/calibration/measurements.hpp"

namespace hgca {

// Writes atomically (temporary file + rename); throws std::runtime_error("cannot write PATH: ...").
// Root attributes: every (key, value) of `attributes` (the machine stamp, the command).
void write_measurements_h5(const std::string& path, const std::vector<Measurement>& rows,
                           const std::vector<std::pair<std::string, std::string>>& attributes);

}  // namespace hgca
