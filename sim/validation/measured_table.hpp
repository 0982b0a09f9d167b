// The measured table `hgca validate measure` writes and `hgca validate predict` reads: CSV, one header line,
// one row per grid point (docs/VALIDATION.md lists the columns). `#` lines and blank lines are ignored.
// Times are milliseconds of the runner: total_ms is the median per-step time on the host clock (the figure
// predictions are compared with); the phase columns are medians of the runner's per-phase timers (for a
// decode step, summed over the layers), and may be empty in a hand-written table.
#pragma once

#include <iosfwd>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/validation/grid.hpp"

namespace hgca::validation {

struct TableError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct MeasuredPhases {
  double gpu_window_ms = 0, d2h_query_ms = 0, cpu_attention_ms = 0, h2d_result_ms = 0, merge_ms = 0;
};

struct MeasuredRow {
  ValidationPoint point;
  int line = 0;  // line in the file it came from (0 when measured in this process)
  int warmup = 0, reps = 0;
  double total_ms = 0;      // median over the timed steps
  double total_p10_ms = 0, total_p90_ms = 0;
  // The median step of each pass (`measure --passes`), in pass order; empty where not recorded. How far the
  // passes disagree is the measurement's own noise, which a prediction's error is judged against.
  std::vector<double> pass_ms;
  MeasuredPhases phases;
  std::string gpu, cpu, date;  // machine stamp
};

// The relative standard error of total_ms estimated from the passes: the standard deviation of the pass
// medians / sqrt(passes) / total_ms. NaN with fewer than two passes recorded.
double pass_standard_error(const MeasuredRow& row);

// Every column, in the order write_measured uses.
const std::vector<std::string>& measured_columns();

// Throws TableError, one line: "FILE:LINE: column 'x': problem; expected ..." (or "FILE: missing column 'x'").
std::vector<MeasuredRow> read_measured(const std::string& path);
std::vector<MeasuredRow> parse_measured(std::istream& in, const std::string& source);

// Writes rows in the same format; parse(write(rows)) gives the rows back (reals in shortest exact form).
void write_measured(std::ostream& out, const std::vector<MeasuredRow>& rows);
// Atomically (temporary + rename); throws std::runtime_error naming the path.
// `provenance` (how the rows were measured) goes first as a '#' comment line, which readers skip.
void write_measured_file(const std::string& path, const std::vector<MeasuredRow>& rows, const std::string& provenance = "");

}  // namespace hgca::validation
