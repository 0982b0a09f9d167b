// Runs as CSV: one header line, then one row per run with every tabular scalar (see scalar_fields.hpp and
// docs/RESULTS.md). Strings are quoted per RFC 4180 when they contain a comma, quote, CR or LF (quotes
// doubled); reals are written in the shortest form that reads back exactly; booleans as true/false; lines
// end in LF. resolved_yaml is left out (it lives in the HDF5 file).
#pragma once

#include <string>
#include <vector>

#include "sim/results/run_result.hpp"

namespace hgca {

// Atomic: see atomic_file.hpp. Throws std::runtime_error naming `path` on failure.
void write_csv(const std::string& path, const std::vector<RunResult>& runs);

// One field as CSV text (quoted only when it must be).
std::string csv_quote(const std::string& field);

}  // namespace hgca
