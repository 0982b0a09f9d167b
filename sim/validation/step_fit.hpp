// `hgca validate fit`: profile parameters fitted to the measured per-step times of the role=fit rows of a measured
// table, every other figure of the profile held. Meant for what the calibration microbenchmarks cannot see or
// see badly: the host/orchestration terms (host.framework_op, host.framework_step, host.sync), the last-level
// cache's read speed-up (cpu.llc_bandwidth_factor: the microbenchmarks' 2 GiB pools never fit in the cache) and
// the CPU attention tasks' per-task and per-row costs as the runner's step (its thread pool, its task split, its
// lists) incurs them. Holdout rows are dropped before anything is simulated: they never influence the fit
// (tests/validation check it with absurd holdout times).
//
// Objective: the sum over fit rows of the squared relative error of the predicted step time, plus, with
// `phase_weight` > 0, that weight times the squared relative error of the CPU attention phase on rows that
// measured it (the phase timer pins the CPU terms down where the step time mixes them with the host's).
// Search: coordinate descent: in the first round each parameter in turn over a log grid of its range (plus 0
// where 0 is allowed), then golden-section refinement in log space between the best grid point's neighbours;
// later rounds refine each parameter in [x/2, 2x] (inside its range) and end with a pattern move (the round's
// move repeated); rounds until the objective stops improving. Then, with two or more parameters, a Nelder-Mead
// polish over all of them at once in log coordinates (coordinate steps stall where parameters trade off),
// restarted from its result while that still helps. Deterministic.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "sim/config/experiment.hpp"
#include "sim/config/loader.hpp"
#include "sim/validation/prediction.hpp"

namespace hgca::validation {

// One fittable field of a hardware profile.
struct FitParam {
  std::string name;       // profile key, e.g. "host.sync", "cpu.row_cost"
  double lo = 0, hi = 0;  // the log grid's range; the search never leaves [lo, hi] (or 0, where allowed)
  bool zero = false;      // 0 is a candidate (a term that may vanish)
  enum class Kind { Duration, Number, Bytes } kind = Kind::Duration;  // seconds, a plain number, or bytes
  std::function<double&(HardwareProfile&)> field;
  // Why the parameter would do nothing on this profile (empty when it can be fitted).
  std::function<std::string(const HardwareProfile&)> inert = nullptr;
};

// Every parameter `validate fit` knows, in the order they are listed: host.framework_op, host.framework_step,
// host.sync, host.after_cpu_max, host.after_cpu_time, cpu.llc_bytes, cpu.llc_bandwidth_factor, cpu.llc_residency,
// cpu.gather_efficiency, cpu.row_cost, cpu.task_overhead, cpu.wakeup, cpu.wakeup_stagger, pcie.d2h.latency,
// pcie.h2d.latency, gpu.vector_fixed, gpu.attention_fixed, gpu.kernel_launch.
const std::vector<FitParam>& fittable_params();
std::string fittable_param_names();  // "host.framework_op, host.framework_step, ...": for help and errors
// Parses a comma-separated non-empty list of those names (the host ones also without "host."); throws
// std::runtime_error naming a bad or repeated name.
std::vector<FitParam> parse_fit_params(const std::string& list);

struct StepFitOptions {
  std::vector<FitParam> params = parse_fit_params("framework_op,framework_step,sync");
  double phase_weight = 0;  // weight of the CPU attention phase's squared relative error (0: step time only)
  int grid_points = 16;     // per parameter, log-spaced over its range
  int max_rounds = 40;      // stops earlier when a round improves the objective by less than 1e-9 (relative)
  int simplex_evaluations = 600;  // per Nelder-Mead polish after the coordinate search (0: none; up to 3 restarts)
  int jobs = 1;
};

struct StepFit {
  HardwareProfile profile;         // the base profile with the fitted fields replaced
  double objective = 0;            // at the fitted profile
  int fit_rows = 0, evaluations = 0;
  std::vector<PredictedRow> rows;  // the fit rows predicted with the fitted profile
};

// Throws std::runtime_error when there is no fit row with a prediction, or a parameter is inert on `base`.
StepFit fit_to_steps(const std::vector<MeasuredRow>& rows, const HardwareProfile& base, const StepFitOptions& opts = {},
                     const LoadOptions& load = {});

}  // namespace hgca::validation
