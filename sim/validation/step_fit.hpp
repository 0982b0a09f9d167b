// `hgca validate fit`: the parameters of a hardware profile that the calibration microbenchmarks cannot
// determine, fitted to the measured per-step times of the role=fit rows of a measured table, every other figure
// of the profile held: the host/orchestration terms (host.framework_op, host.framework_step, host.sync) and the
// last-level cache's read speed-up (cpu.llc_bandwidth_factor: the microbenchmarks' 2 GiB pools never fit in the
// cache). Holdout rows are dropped before anything is simulated: they never influence the fit (tests/validation
// check it with absurd holdout times).
//
// Objective: the sum over fit rows of the squared relative error of the predicted step time. Search:
// coordinate descent: in the first round each parameter in turn over a log grid of its range (plus 0 for the
// host terms), then golden-section refinement in log space between the best grid point's neighbours; later
// rounds refine each parameter in [x/2, 2x] and end with a pattern move (the round's move repeated); rounds
// until the objective stops improving. Deterministic.
#pragma once

#include <string>
#include <vector>

#include "sim/config/experiment.hpp"
#include "sim/config/loader.hpp"
#include "sim/validation/prediction.hpp"

namespace hgca::validation {

enum class HostParam { FrameworkOp, FrameworkStep, Sync, CpuLlcBandwidthFactor };
// "host.framework_op", "host.framework_step", "host.sync", "cpu.llc_bandwidth_factor"
const char* to_string(HostParam p);
double& param_value(HardwareProfile& hw, HostParam p);  // the profile field a parameter names
// Parses a comma-separated non-empty subset of the names above (the host ones also without "host."); throws
// std::runtime_error naming the bad name.
std::vector<HostParam> parse_host_params(const std::string& list);

struct HostFitOptions {
  std::vector<HostParam> params{HostParam::FrameworkOp, HostParam::FrameworkStep, HostParam::Sync};
  double min_s = 0.1e-6, max_s = 2e-3;  // the host terms' log grid range; 0 is always a candidate too
  double min_factor = 1, max_factor = 64;  // cpu.llc_bandwidth_factor's log grid range (no 0)
  int grid_points = 16;                 // per parameter, log-spaced over its range
  int max_rounds = 40;  // stops earlier when a round improves the objective by less than 1e-9 (relative)
  int jobs = 1;
};

struct HostFit {
  HardwareProfile profile;          // the base profile with the fitted fields replaced
  HostSpec host;                    // profile.host
  double objective = 0;             // sum of squared relative errors on the fit rows
  int fit_rows = 0, evaluations = 0;
  std::vector<PredictedRow> rows;   // the fit rows predicted with the fitted profile
};

// Throws std::runtime_error when there is no fit row with a prediction.
HostFit fit_host(const std::vector<MeasuredRow>& rows, const HardwareProfile& base, const HostFitOptions& opts = {},
                 const LoadOptions& load = {});

}  // namespace hgca::validation
