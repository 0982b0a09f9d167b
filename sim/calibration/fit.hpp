// Fitting a hardware profile's parameters to measured primitive timings.
//
// Least squares on the relative error of every row, (predicted - measured) / measured, where "predicted" is
// predict_seconds (the simulator's own cost functions). Levenberg-Marquardt on parameters scaled by their
// base values, with bounds (rates > 0, durations >= 0, shares <= 1). The GPU, the PCIe link and the CPU share
// no parameter and no row, so each part is fitted on its own rows.
//
// Parameters the data cannot determine keep their base value and say why: no row depends on them, or their
// relative standard error exceeds `max_relative_error` if the timings carried `noise_floor` of relative noise
// (a property of which rows there are, from the Jacobian at the optimum, not of how well they fit), typically
// because another parameter explains the same rows (latency vs bandwidth without small copies; wake-up vs
// per-task overhead with one task per core). The least determined parameter is set back to its base value and
// the rest refitted, until all that remain are determined. The standard error reported for a fitted parameter
// uses the actual misfit when it exceeds the floor. How well the rows are fitted is reported per primitive.
//
// Before the local search, each parameter is scanned alone over six decades: the roofline is a max() of
// terms, and a term that does not bind at the start has no gradient. The CPU part is solved from several
// starts (FitOptions::multi_start, cpu_start_grid), keeping the lowest objective.
#pragma once

#include <string>
#include <vector>

#include "sim/calibration/measurements.hpp"
#include "sim/config/experiment.hpp"

namespace hgca {

// How a parameter's value is written (units in reports).
enum class QuantityKind { Bandwidth, Duration, FlopRate, Share, Bytes };

struct ParameterResult {
  std::string key;  // profile key path; "gpu.hbm_bandwidth*gpu.hbm_efficiency" for an effective rate
  HardwarePart part = HardwarePart::Gpu;
  QuantityKind kind = QuantityKind::Bandwidth;
  double base = 0;    // value in the base profile
  double value = 0;   // value in the fitted profile (== base unless fitted)
  bool fitted = false;
  double relative_error = 0;  // one standard error / value, for fitted parameters
  std::string reason;         // why not fitted, or a note about a fitted value (bound reached, key adjusted)
};

struct RowResult {
  Measurement row;  // a copy: results outlive the table they came from
  double predicted = 0;  // seconds on the profile
  double relative_error() const { return (predicted - row.seconds) / row.seconds; }
};

struct PrimitiveSummary {
  Primitive primitive = Primitive::PcieCopy;
  int rows = 0;
  double rms_relative = 0;  // root mean square of relative errors
  double max_relative = 0;  // largest |relative error|
  int worst_line = 0;
};

struct FitOptions {
  double max_relative_error = 0.2;  // a fitted parameter must be known to within this (one standard error)
  double noise_floor = 0.01;        // relative noise assumed for deciding what the rows determine
  int max_iterations = 60;
  // Robustness to outlying rows: each row's relative error r enters the objective as the soft-L1 loss
  // 2 c^2 (sqrt(1 + (r/c)^2) - 1) with c = outlier_scale: r^2 for |r| well below c, growing like 2c|r| beyond.
  // On a virtual machine a row now and then measures several times its neighbours (a preempted vCPU during
  // most of its repetitions); under plain least squares one such row moves every CPU parameter, and two
  // calibrations of one machine then disagree on different rows. 0: plain least squares.
  double outlier_scale = 0.1;
  // Parameter keys (as in ParameterResult::key) kept at their base values: e.g. the fixed kernel costs, to
  // see how the plain roofline does on the same rows.
  std::vector<std::string> hold;
  // Keys held at their base values as `hgca calibrate` does by default (reported as such, not as --hold).
  // cpu.llc_residency is held unless released: only an LLC sweep that reads one pool at several rates
  // determines it, and a table without one would trade it against every other CPU term.
  std::vector<std::string> held_by_default = {"cpu.llc_residency"};
  // Solve the CPU part from several starts and keep the lowest objective, a later start only when at least
  // 1 % lower than every earlier one (cpu_start_grid, docs/CALIBRATION.md): the CPU rows'
  // objective has several minima, and a per-row latency that does not bind at the start has no gradient.
  // false: the base's values alone (one start, as the GPU and PCIe parts always are).
  bool multi_start = true;
  // Threads that predict the rows (0: every hardware thread; `hgca calibrate` uses them all). The fit is the
  // same whatever the count: each row's prediction is its own simulation, stored by row.
  int jobs = 1;
};

// One start of the CPU part's solve (FitOptions::multi_start): where it started, the objective it reached (sum
// of the rows' squared robust residuals and of the bandwidth curve's shape terms, 0 while it keeps its shape)
// and where it ended.
struct FitStart {
  double row_cost_s = 0, llc_bytes = 0;  // the start (every other parameter at the part's start)
  double objective = 0;                  // after the solve from there, all CPU parameters free
  double fitted_row_cost_s = 0, fitted_llc_bytes = 0;
  bool chosen = false;  // kept: the fit continues from its optimum (the lowest objective, by FitOptions' margin)
};

// The starts of the CPU part: cpu.row_cost at the base's value, 30 ns and 100 ns (a DRAM miss is 70-120 ns,
// an L3 hit 20-40 ns; a core overlaps a few), times cpu.llc_bytes at its start and a quarter of it; a held
// parameter keeps its start. `row_cost_s` and `llc_bytes` are the part's start (after the cache term's
// default of 32 MiB).
std::vector<FitStart> cpu_start_grid(double row_cost_s, double llc_bytes, bool row_cost_free, bool llc_free);

// What `hgca calibrate` holds unless `--free KEY` releases it: cpu.llc_residency (see
// FitOptions::held_by_default) and cpu.flops_per_core. On a real machine's rows a compute floor per row (the
// attention's FLOPs, proportional to head_dim) competes with the per-row latency (cpu.row_cost) and the cache
// term for the same per-row costs, and a few percent of noise moved the fit between those explanations: device
// runs 9 and 10, two calibrations of one machine each, predicted 28 % and 17 % apart with it free and 12.5 %
// and 8.3 % apart with it held (docs/CALIBRATION.md).
const std::vector<std::string>& held_by_default_keys();

// Whether `key` names a parameter fit_profile can fit (as in ParameterResult::key), for checking --hold/--free.
bool is_fit_parameter(const std::string& key);

struct FitResult {
  HardwareProfile profile;  // the base with every determined parameter replaced (keys made loader-valid)
  std::vector<ParameterResult> parameters;
  std::vector<RowResult> rows;  // the fitted rows, predicted on `profile`
  double outlier_scale = 0;     // the loss the fit used (FitOptions::outlier_scale)
  std::vector<FitStart> cpu_starts;  // the CPU part's starts (empty: one start, or no CPU rows)
};

// Fits `base` to `rows`; rows' primitives decide which parameters are candidates (see docs/CALIBRATION.md).
FitResult fit_profile(const HardwareProfile& base, const std::vector<Measurement>& rows, const FitOptions& options = {});

// Predictions of `rows` on `hw` (for validation tables and `--check`), on `jobs` threads (0: every hardware
// thread; the result does not depend on it).
std::vector<RowResult> predict_rows(const HardwareProfile& hw, const std::vector<Measurement>& rows, int jobs = 1);

// Error per primitive, in primitive order, only for primitives that have rows.
std::vector<PrimitiveSummary> summarize(const std::vector<RowResult>& rows);

// A value for reports, four significant digits in a fixed unit per kind ("55 GB/s", "4.7 us", "0.85").
std::string format_quantity(QuantityKind kind, double value);

}  // namespace hgca
