// Simulating a measured row: the Experiment that describes what the runner did (experiment_for), its
// predicted per-step time, and the error statistics `hgca validate predict` prints and stores.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "sim/config/experiment.hpp"
#include "sim/config/loader.hpp"
#include "sim/results/run_result.hpp"
#include "sim/validation/measured_table.hpp"

namespace hgca::validation {

// The experiment that matches the runner's step for `row` on `hardware`:
//  - attention: a one-layer model of the row's attention shape, system.attention_only; decode-step: the
//    row's model (by name, `opts` gives the search directories), the whole decode step.
//  - strategy hgca; the runner's token placement (the last `window` tokens on the GPU, the rest in the pool)
//    with no eviction in the simulated step (see the comment in prediction.cpp);
//  - selection {source: topk, top_k: cpu_select} per query head, chosen at no cost (the runner draws its
//    random lists outside the timed region): selection_method reuse-last on a step that does not rescan;
//  - cpu_threads = the runner's threads (its calling thread is one of them), cpu_task from the runner's
//    granularity (kv_group -> kv-head), dynamic schedule, pinned buffers, fp16 KV;
//  - memory capacities raised out of the way: the runner reuses one layer's KV for every layer, so only
//    time is compared.
// Throws std::runtime_error (one line naming the row) for a row the simulator cannot describe.
Experiment experiment_for(const MeasuredRow& row, const HardwareProfile& hardware, const LoadOptions& opts = {});

// The decode step of the experiment that is compared (experiment_for simulates two; see prediction.cpp).
inline constexpr int kComparedStep = 1;

// The simulator's time for each phase the runner times (milliseconds; a decode step sums its layers), read
// from the compared step's timeline (phases_from_timeline):
//  - gpu_window_ms: the window-attention kernels; merge_ms: the merge kernels;
//  - d2h_query_ms / h2d_result_ms: the query copies / the result copies;
//  - cpu_attention_ms: from the moment the CPU may start (the queries are in host memory and, when the host
//    blocks, it has seen them: the runner's timer starts after its wait returns) to the last CPU task's end.
// The phases by name (the measured column is NAME_ms; predict adds predicted_NAME_ms and NAME_error).
struct PhaseField {
  const char* name;
  double MeasuredPhases::*ms;
};
inline constexpr std::array<PhaseField, 5> kPhases{{{"gpu_window", &MeasuredPhases::gpu_window_ms},
                                                    {"d2h_query", &MeasuredPhases::d2h_query_ms},
                                                    {"cpu_attention", &MeasuredPhases::cpu_attention_ms},
                                                    {"h2d_result", &MeasuredPhases::h2d_result_ms},
                                                    {"merge", &MeasuredPhases::merge_ms}}};

MeasuredPhases phases_from_timeline(const std::vector<TimelineSpan>& spans, int step);

struct PredictedRow {
  MeasuredRow measured;
  double predicted_ms = 0;
  double error = 0;  // (predicted - measured) / measured
  MeasuredPhases predicted_phases;  // the same phases as measured.phases, from the simulated step
  bool feasible = true;
  std::string note;  // why there is no prediction (infeasible), else empty
};

// Simulates every row (in parallel over `jobs` threads; results in row order, independent of jobs). With
// `phases`, records the compared step's timeline and fills predicted_phases (slower; the fit does without).
std::vector<PredictedRow> predict_rows(const std::vector<MeasuredRow>& rows, const HardwareProfile& hardware,
                                       const LoadOptions& opts = {}, int jobs = 1, bool phases = true);

struct ErrorSummary {
  std::string role;  // "fit", "holdout" or "all"
  std::string kind;  // "attention" or "decode-step"
  int count = 0;
  double median_abs_error = 0;  // of |error|, linear interpolation between order statistics
  double p90_abs_error = 0;
  // The measurement's own noise over the same rows: how many recorded their passes (pass_ms), and the
  // median of their pass_standard_error (NaN when none did). An error near it is as good as these
  // measurements can show.
  int rows_with_passes = 0;
  double median_standard_error = 0;
};

// Percentile p (0..100) of `values` with linear interpolation between order statistics (numpy's default).
double percentile(std::vector<double> values, double p);

// How each pass of a table sits against its rows' own typical time: for pass i, the median over the rows that
// recorded more than i passes (and at least two) of pass_ms[i] / median(pass_ms) - 1. A single row's noise
// cancels in the median over rows; what is left is the machine changing under the measurement (device run
// 10's fit table: its first pass +12 %, the slower of the two in 56 of 58 rows).
struct PassDrift {
  std::vector<double> by_pass;  // empty when no row recorded two passes
  int rows = 0;                 // rows with two passes or more
};
PassDrift pass_drift(const std::vector<MeasuredRow>& rows);

// pass_drift as one line ("passes against each row's median over its passes (58 rows): pass 1 +11.7 %,
// pass 2 -11.7 %"), with a warning added when a pass is `threshold` or more off; empty without passes.
std::string describe_pass_drift(const std::vector<MeasuredRow>& rows, double threshold = 0.05);

// (predicted - measured) / measured of one phase; NaN when the phase was not measured (0 or absent).
double phase_error(double predicted_ms, double measured_ms);

// For each kind (attention, decode-step) and role (fit, holdout, all) that has rows with a prediction, in that order.
std::vector<ErrorSummary> summarize(const std::vector<PredictedRow>& rows);

}  // namespace hgca::validation
