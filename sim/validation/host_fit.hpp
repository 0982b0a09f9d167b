// `hgca validate fit`: the host/orchestration parameters of a hardware profile (host.framework_op,
// host.framework_step, host.sync) fitted to the measured per-step times of the role=fit rows of a measured
// table, every other figure of the profile held. Holdout rows are dropped before anything is simulated: they
// never influence the fit (tests/validation check it with absurd holdout times).
//
// Objective: the sum over fit rows of the squared relative error of the predicted step time. Search:
// coordinate descent: in the first round each parameter in turn over a log grid (plus 0), then golden-section
// refinement in log space between the best grid point's neighbours; later rounds refine each parameter in
// [x/2, 2x] and end with a pattern move (the round's move repeated); rounds until the objective stops
// improving. Deterministic.
#pragma once

#include <string>
#include <vector>

#include "sim/config/experiment.hpp"
#include "sim/config/loader.hpp"
#include "sim/validation/prediction.hpp"

namespace hgca::validation {

enum class HostParam { FrameworkOp, FrameworkStep, Sync };
const char* to_string(HostParam p);                // "framework_op", "framework_step", "sync"
double& host_value(HostSpec& h, HostParam p);       // the HostSpec field a parameter names
// Parses "framework_op,framework_step,sync" (any non-empty subset); throws std::runtime_error naming the bad name.
std::vector<HostParam> parse_host_params(const std::string& list);

struct HostFitOptions {
  std::vector<HostParam> params{HostParam::FrameworkOp, HostParam::FrameworkStep, HostParam::Sync};
  double min_s = 0.1e-6, max_s = 2e-3;  // the log grid's range; 0 is always a candidate too
  int grid_points = 16;                 // per parameter, log-spaced over [min_s, max_s]
  int max_rounds = 40;  // stops earlier when a round improves the objective by less than 1e-9 (relative)
  int jobs = 1;
};

struct HostFit {
  HostSpec host;                    // the fitted host section (the base's, with the fitted fields replaced)
  double objective = 0;             // sum of squared relative errors on the fit rows
  int fit_rows = 0, evaluations = 0;
  std::vector<PredictedRow> rows;   // the fit rows predicted with the fitted profile
};

// Throws std::runtime_error when there is no fit row with a prediction.
HostFit fit_host(const std::vector<MeasuredRow>& rows, const HardwareProfile& base, const HostFitOptions& opts = {},
                 const LoadOptions& load = {});

}  // namespace hgca::validation
