// hgca validate's per-phase predictions and host fit: phases read from a hand-made timeline, the blocking
// host's waits on the critical path (host.sync), the fit recovering known host parameters from rows the
// simulator produced itself, and holdout rows never reaching the fit.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "sim/config/loader.hpp"
#include "sim/config/yaml_writer.hpp"
#include "sim/validation/step_fit.hpp"
#include "sim/validation/measured_table.hpp"
#include "sim/validation/prediction.hpp"

namespace hgca::validation {
namespace {

const std::string kSource = HGCA_SOURCE_DIR;
const std::string kSmall = kSource + "/tests/validation/data/measured_small.csv";

TimelineSpan span(const char* track, const std::string& name, double start_us, double end_us, int step, int layer) {
  TimelineSpan s;
  s.track = track;
  s.name = name;
  s.start_s = start_us * 1e-6;
  s.dur_s = (end_us - start_us) * 1e-6;
  s.step = step;
  s.layer = layer;
  return s;
}

TEST(Phases, ReadFromTheComparedStepsTimeline) {
  std::vector<TimelineSpan> t = {
      // step 0: ignored
      span("GPU compute", "L0 window-attn", 0, 1000, 0, 0),
      // step 1, layer 0: the CPU may start at 25 us (the host's wait ends after the copy), ends at 60 us
      span("PCIe D2H", "L0 queries to host", 10, 17, 1, 0), span("host thread", "L0 wait queries (host)", 17, 25, 1, 0),
      span("GPU compute", "L0 window-attn", 5, 35, 1, 0), span("CPU core 0", "L0 sparse-attn", 27, 50, 1, 0),
      span("CPU core 1", "L0 sparse-attn", 27, 60, 1, 0), span("PCIe H2D", "L0 partials to GPU", 60, 68, 1, 0),
      span("GPU compute", "L0 lse-merge", 68, 78, 1, 0),
      // layer 1: no host wait, the CPU may start when the copy ends (100 us), ends at 140 us
      span("PCIe D2H", "L1 queries to host", 95, 100, 1, 1), span("CPU core 0", "L1 sparse-attn", 101, 140, 1, 1),
      span("GPU compute", "L1 window-attn", 90, 110, 1, 1), span("PCIe H2D", "L1 partials to GPU", 140, 150, 1, 1),
      span("GPU compute", "L1 lse-merge", 150, 155, 1, 1), span("GPU compute", "L1 o-proj", 155, 200, 1, 1)};
  const MeasuredPhases p = phases_from_timeline(t, 1);
  EXPECT_NEAR(p.gpu_window_ms, (30 + 20) * 1e-3, 1e-12);
  EXPECT_NEAR(p.d2h_query_ms, (7 + 5) * 1e-3, 1e-12);
  EXPECT_NEAR(p.cpu_attention_ms, ((60 - 25) + (140 - 100)) * 1e-3, 1e-12);
  EXPECT_NEAR(p.h2d_result_ms, (8 + 10) * 1e-3, 1e-12);
  EXPECT_NEAR(p.merge_ms, (10 + 5) * 1e-3, 1e-12);
  EXPECT_TRUE(std::isnan(phase_error(1, 0)));
  EXPECT_DOUBLE_EQ(phase_error(1.5, 1), 0.5);
}

TEST(Phases, PredictFillsThemAndTheyFitInsideTheStep) {
  const HardwareProfile hw = load_hardware(kSource + "/configs/hw/device-h100.yaml");
  const auto rows = read_measured(kSmall);
  const auto pred = predict_rows({rows[0]}, hw, {}, 1);
  ASSERT_TRUE(pred[0].feasible);
  const MeasuredPhases& p = pred[0].predicted_phases;
  for (const PhaseField& ph : kPhases) EXPECT_GT(p.*ph.ms, 0) << ph.name;
  // The chain copy -> CPU -> copy -> merge is inside the step.
  EXPECT_LE(p.d2h_query_ms + p.cpu_attention_ms + p.h2d_result_ms + p.merge_ms, pred[0].predicted_ms * (1 + 1e-9));
  EXPECT_LE(p.gpu_window_ms, pred[0].predicted_ms);
}

// With a blocking host the attention step's critical path is: issue the query copy, the copy, the host's wait
// (sync), dispatch, CPU tasks, issue the result copy, the copy, launch the merge, the merge, the host's wait
// (sync). Two waits: the step grows by exactly 2 x the change in host.sync. A decode step has a third wait
// per layer (the QKV projection before the query copy) and everything after it is serial: 3 x layers.
TEST(HostSync, EachWaitOnTheDeviceIsOnTheCriticalPath) {
  HardwareProfile hw = load_hardware(kSource + "/configs/hw/device-h100.yaml");
  const auto rows = read_measured(kSmall);
  auto step_ms = [&](const MeasuredRow& r, double sync) {
    hw.host.sync_s = sync;
    const auto p = predict_rows({r}, hw, {}, 1, false);
    EXPECT_TRUE(p[0].feasible);
    return p[0].predicted_ms;
  };
  for (int i : {0, 1, 2}) EXPECT_NEAR(step_ms(rows[i], 30e-6) - step_ms(rows[i], 10e-6), 2 * 20e-3, 1e-9) << i;
  EXPECT_NEAR(step_ms(rows[3], 30e-6) - step_ms(rows[3], 10e-6), 3 * 32 * 20e-3, 1e-6);
}

// host.sync is read and written back bit for bit (only when set), and a negative one is refused.
TEST(HostSync, ProfileRoundTrip) {
  HardwareProfile hw = load_hardware(kSource + "/configs/hw/device-h100.yaml");
  EXPECT_EQ(hw.host.sync_s, 0);
  EXPECT_EQ(hardware_to_yaml(hw).find("sync"), std::string::npos);  // older profiles read back the same
  hw.host.sync_s = 7.123456789e-6;
  const auto path = std::filesystem::temp_directory_path() / ("hgca-sync-" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(path) << hardware_to_yaml(hw);
  EXPECT_EQ(load_hardware(path.string()).host.sync_s, hw.host.sync_s);
  std::string text = hardware_to_yaml(hw);
  const std::size_t at = text.find("sync: ");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, text.find('\n', at) - at, "sync: -1 us");
  std::ofstream(path) << text;
  try {
    load_hardware(path.string());
    ADD_FAILURE() << "a negative host.sync was accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("sync"), std::string::npos) << e.what();
  }
  std::filesystem::remove(path);
}

// host.after_cpu_max and host.after_cpu_time: written only when the term is on, read back bit for bit, and a
// time constant of 0 is refused with the key named.
TEST(HostAfterCpu, ProfileRoundTrip) {
  HardwareProfile hw = load_hardware(kSource + "/configs/hw/device-h100.yaml");
  EXPECT_EQ(hw.host.after_cpu_max_s, 0);
  EXPECT_EQ(hw.host.after_cpu_seconds(1e-3), 0);
  EXPECT_EQ(hardware_to_yaml(hw).find("after_cpu"), std::string::npos);
  hw.host.after_cpu_max_s = 31.25e-6;
  hw.host.after_cpu_time_s = 4.5e-3;
  EXPECT_NEAR(hw.host.after_cpu_seconds(4.5e-3), 31.25e-6 * (1 - std::exp(-1.0)), 1e-15);
  const auto path = std::filesystem::temp_directory_path() / ("hgca-after-cpu-" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(path) << hardware_to_yaml(hw);
  const HardwareProfile back = load_hardware(path.string());
  EXPECT_EQ(back.host.after_cpu_max_s, hw.host.after_cpu_max_s);
  EXPECT_EQ(back.host.after_cpu_time_s, hw.host.after_cpu_time_s);
  std::string text = hardware_to_yaml(hw);
  const std::size_t at = text.find("after_cpu_time: ");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, text.find('\n', at) - at, "after_cpu_time: 0 us");
  std::ofstream(path) << text;
  try {
    load_hardware(path.string());
    ADD_FAILURE() << "a zero host.after_cpu_time was accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("after_cpu_time"), std::string::npos) << e.what();
  }
  std::filesystem::remove(path);
}

// Rows "measured" by the simulator itself with a known host section; the fit starts elsewhere.
std::vector<MeasuredRow> synthetic_rows(const HardwareProfile& truth) {
  std::vector<MeasuredRow> rows = read_measured(kSmall);
  MeasuredRow extra = rows[1];
  extra.point.id = 4;
  extra.point.batch = 16;
  extra.point.threads = 8;
  rows.push_back(extra);
  const auto pred = predict_rows(rows, truth, {}, 2, false);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    rows[i].point.role = PointRole::Fit;
    rows[i].total_ms = pred[i].predicted_ms;
  }
  return rows;
}

TEST(StepFit, RecoversKnownValuesFromSimulatedRows) {
  const HardwareProfile base = load_hardware(kSource + "/configs/hw/device-h100.yaml");
  HardwareProfile truth = base;
  truth.host.framework_step_s = 40e-6;
  truth.host.sync_s = 7e-6;
  const auto rows = synthetic_rows(truth);
  StepFitOptions o;
  o.params = parse_fit_params("framework_step,sync");
  o.jobs = 2;
  const StepFit fit = fit_to_steps(rows, base, o);
  EXPECT_NEAR(fit.profile.host.framework_step_s, 40e-6, 0.02 * 40e-6);
  EXPECT_NEAR(fit.profile.host.sync_s, 7e-6, 0.02 * 7e-6);
  EXPECT_EQ(fit.profile.host.framework_op_s, base.host.framework_op_s);  // not fitted: unchanged
  EXPECT_EQ(fit.fit_rows, static_cast<int>(rows.size()));
  for (const PredictedRow& r : fit.rows) EXPECT_LT(std::abs(r.error), 0.01) << r.measured.point.id;
}

// host.after_cpu_max on a blocking host: rows simulated with a known term (time constant given) are fitted
// back; the time constant alone is refused while the term is off, and accepted together with the maximum.
TEST(StepFit, RecoversTheAfterCpuTerm) {
  HardwareProfile base = load_hardware(kSource + "/configs/hw/device-h100.yaml");
  base.host.sync_s = 5e-6;
  base.host.after_cpu_time_s = 1e-3;
  HardwareProfile truth = base;
  truth.host.after_cpu_max_s = 60e-6;
  const auto rows = synthetic_rows(truth);
  StepFitOptions o;
  o.params = parse_fit_params("after_cpu_max");
  o.jobs = 2;
  const StepFit fit = fit_to_steps(rows, base, o);
  EXPECT_NEAR(fit.profile.host.after_cpu_max_s, 60e-6, 0.03 * 60e-6);
  for (const PredictedRow& r : fit.rows) EXPECT_LT(std::abs(r.error), 0.01) << r.measured.point.id;
  o.params = parse_fit_params("after_cpu_time");
  EXPECT_THROW(fit_to_steps(rows, base, o), std::runtime_error);
  o.params = parse_fit_params("after_cpu_max,after_cpu_time");
  o.grid_points = 5;
  EXPECT_NO_THROW(fit_to_steps(rows, base, o));
}

TEST(StepFit, NeverReadsHoldoutRows) {
  const HardwareProfile base = load_hardware(kSource + "/configs/hw/device-h100.yaml");
  HardwareProfile truth = base;
  truth.host.sync_s = 12e-6;
  std::vector<MeasuredRow> rows = synthetic_rows(truth);
  StepFitOptions o;
  o.params = parse_fit_params("sync");
  o.jobs = 2;
  const StepFit clean = fit_to_steps(rows, base, o);
  // Absurd holdout rows: huge and tiny times, and one the simulator cannot even describe (unknown model).
  for (int i = 0; i < 3; ++i) {
    MeasuredRow h = rows[static_cast<std::size_t>(i)];
    h.point.role = PointRole::Holdout;
    h.point.id = 100 + i;
    h.total_ms = i == 0 ? 1e6 : 1e-9;
    if (i == 2) {
      h.point.kind = PointKind::DecodeStep;
      h.point.model = "no-such-model";
    }
    rows.push_back(h);
  }
  const StepFit with_holdout = fit_to_steps(rows, base, o);
  EXPECT_EQ(with_holdout.profile.host.sync_s, clean.profile.host.sync_s);
  EXPECT_EQ(with_holdout.objective, clean.objective);
  EXPECT_EQ(with_holdout.fit_rows, clean.fit_rows);
  EXPECT_NEAR(clean.profile.host.sync_s, 12e-6, 0.02 * 12e-6);
  for (MeasuredRow& r : rows) r.point.role = PointRole::Holdout;
  EXPECT_THROW(fit_to_steps(rows, base, o), std::runtime_error);  // no fit row at all
}

// cpu.llc_bandwidth_factor: rows whose pools fit in the cache (the small table's rows 0, 1 and 4 hold 15-251 MB of
// CPU-resident KV, under 300 MiB; row 2 holds 470 MB) simulated with a known factor; the fit, started at 1,
// recovers it, and absurd holdout rows change nothing.
TEST(StepFit, RecoversTheCacheFactorAndNeverReadsHoldoutRows) {
  HardwareProfile base = load_hardware(kSource + "/configs/hw/device-h100.yaml");
  base.cpu.llc_bytes = 300.0 * 1024 * 1024;
  HardwareProfile truth = base;
  truth.cpu.llc_bandwidth_factor = 2.5;
  std::vector<MeasuredRow> rows = synthetic_rows(truth);
  StepFitOptions o;
  o.params = parse_fit_params("cpu.llc_bandwidth_factor");
  o.jobs = 2;
  const StepFit clean = fit_to_steps(rows, base, o);
  EXPECT_NEAR(clean.profile.cpu.llc_bandwidth_factor, 2.5, 0.02 * 2.5);
  EXPECT_EQ(clean.profile.host.sync_s, base.host.sync_s);  // not fitted: unchanged
  for (const PredictedRow& r : clean.rows) EXPECT_LT(std::abs(r.error), 0.01) << r.measured.point.id;
  for (int i = 0; i < 2; ++i) {
    MeasuredRow h = rows[static_cast<std::size_t>(i)];
    h.point.role = PointRole::Holdout;
    h.point.id = 100 + i;
    h.total_ms = i == 0 ? 1e6 : 1e-9;
    rows.push_back(h);
  }
  const StepFit with_holdout = fit_to_steps(rows, base, o);
  EXPECT_EQ(with_holdout.profile.cpu.llc_bandwidth_factor, clean.profile.cpu.llc_bandwidth_factor);
  EXPECT_EQ(with_holdout.objective, clean.objective);
  // Without a cache size the factor does nothing: refused rather than fitted to noise.
  base.cpu.llc_bytes = 0;
  EXPECT_THROW(fit_to_steps(rows, base, o), std::runtime_error);
}

TEST(StepFit, ParsesTheParameterList) {
  const auto two = parse_fit_params("host.sync,cpu.llc_bandwidth_factor");
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].name, "host.sync");
  EXPECT_EQ(two[1].name, "cpu.llc_bandwidth_factor");
  EXPECT_THROW(parse_fit_params("llc_bandwidth_factor"), std::runtime_error);
  EXPECT_EQ(parse_fit_params("sync").size(), 1u);
  EXPECT_EQ(parse_fit_params("framework_op,framework_step,sync").size(), 3u);
  EXPECT_EQ(parse_fit_params("cpu.row_cost,cpu.gather_efficiency,pcie.d2h.latency,gpu.vector_fixed").size(), 4u);
  EXPECT_THROW(parse_fit_params("sync,sync"), std::runtime_error);
  EXPECT_THROW(parse_fit_params("sync,host.sync"), std::runtime_error);
  EXPECT_THROW(parse_fit_params("latency"), std::runtime_error);
  EXPECT_THROW(parse_fit_params(""), std::runtime_error);
  // Each name reaches the field it names.
  HardwareProfile hw;
  for (const FitParam& p : fittable_params()) {
    HardwareProfile copy = hw;
    p.field(copy) = 0.123;
    EXPECT_EQ(p.field(copy), 0.123) << p.name;
  }
  EXPECT_EQ(&parse_fit_params("cpu.row_cost")[0].field(hw), &hw.cpu.row_cost_s);
  EXPECT_EQ(&parse_fit_params("pcie.h2d.latency")[0].field(hw), &hw.pcie.h2d.latency_s);
}

// CPU attention terms: rows simulated with a known per-row cost and gather efficiency, fitted back from other
// values, the CPU phase weighted in; holdout rows change nothing.
TEST(StepFit, RecoversCpuTermsWithThePhaseWeighted) {
  const HardwareProfile base = load_hardware(kSource + "/configs/hw/device-h100.yaml");
  HardwareProfile truth = base;
  truth.cpu.row_cost_s = 100e-9;  // binds in some rows (few threads), not in others: both identifiable
  truth.cpu.gather_efficiency = 0.6;
  std::vector<MeasuredRow> rows = synthetic_rows(truth);
  // The phase timers "measured" by the same simulator.
  const auto pred = predict_rows(rows, truth, {}, 2, true);
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i].phases = pred[i].predicted_phases;
  StepFitOptions o;
  o.params = parse_fit_params("cpu.row_cost,cpu.gather_efficiency");
  o.phase_weight = 1;
  o.jobs = 2;
  const StepFit fit = fit_to_steps(rows, base, o);
  EXPECT_NEAR(fit.profile.cpu.row_cost_s, 100e-9, 0.05 * 100e-9);
  EXPECT_NEAR(fit.profile.cpu.gather_efficiency, 0.6, 0.05 * 0.6);
  EXPECT_EQ(fit.profile.cpu.task_overhead_s, base.cpu.task_overhead_s);  // not fitted: unchanged
  for (const PredictedRow& r : fit.rows) EXPECT_LT(std::abs(r.error), 0.01) << r.measured.point.id;
  MeasuredRow h = rows[0];
  h.point.role = PointRole::Holdout;
  h.point.id = 100;
  h.total_ms = 1e6;
  h.phases.cpu_attention_ms = 1e-9;
  rows.push_back(h);
  EXPECT_EQ(fit_to_steps(rows, base, o).objective, fit.objective);
  o.phase_weight = -1;
  EXPECT_THROW(fit_to_steps(rows, base, o), std::runtime_error);
}

}  // namespace
}  // namespace hgca::validation
