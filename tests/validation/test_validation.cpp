// hgca_validation: grid presets, the measured table (round trip, one-line errors), the experiment built for a
// row (token placement, selection, threads, and the same prediction as a hand-written YAML), the statistics.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "sim/config/loader.hpp"
#include "sim/policy/window_layout.hpp"
#include "sim/runner/simulate.hpp"
#include "sim/validation/grid.hpp"
#include "sim/validation/measured_table.hpp"
#include "sim/validation/prediction.hpp"

namespace hgca::validation {
namespace {

const std::string kSource = HGCA_SOURCE_DIR;
const std::string kSmall = kSource + "/tests/validation/data/measured_small.csv";

std::string header() {
  std::string h;
  for (const std::string& c : measured_columns()) h += (h.empty() ? "" : ",") + c;
  return h;
}

std::string error_of(const std::string& csv) {
  std::istringstream in(csv);
  try {
    parse_measured(in, "t.csv");
  } catch (const TableError& e) {
    return e.what();
  }
  return "";
}

// ---------------------------------------------------------------- grid

TEST(Grid, BudgetsResolveTheRunnersWay) {
  EXPECT_EQ(resolve_budget("5%", 15360), 768);     // 0.05 x 15360
  EXPECT_EQ(resolve_budget("1%", 28672), 287);     // 286.72 rounds to 287
  EXPECT_EQ(resolve_budget("64", 30), 30);         // never more than the pool
  EXPECT_EQ(resolve_budget("64", 4096), 64);
  EXPECT_THROW(resolve_budget("5 percent", 100), GridError);
  EXPECT_THROW(resolve_budget("2.5", 100), GridError);
  EXPECT_THROW(resolve_budget("", 100), GridError);
}

TEST(Grid, DefaultPresetIsDeterministicAndSpansTheRanges) {
  const auto a = preset_points("default"), b = preset_points("default");
  ASSERT_EQ(a.size(), b.size());
  ASSERT_GE(a.size(), 60u);
  ASSERT_LE(a.size(), 100u);
  std::set<int> batches;
  std::set<std::int64_t> contexts, windows;
  std::set<std::string> budgets;
  std::set<int> threads;
  int holdout = 0, decode = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const ValidationPoint& p = a[i];
    EXPECT_EQ(p.id, static_cast<int>(i));
    EXPECT_EQ(p.batch, b[i].batch);
    EXPECT_EQ(p.context, b[i].context);
    EXPECT_EQ(p.cpu_select, b[i].cpu_select);
    EXPECT_EQ(p.role, p.id % 3 == 2 ? PointRole::Holdout : PointRole::Fit);
    EXPECT_LT(p.window, p.context);
    EXPECT_LE(p.pool_bytes(), kMaxPoolBytes);
    EXPECT_EQ(p.cpu_select, resolve_budget(p.budget, p.context - p.window));
    holdout += p.role == PointRole::Holdout;
    if (p.kind == PointKind::DecodeStep) {
      ++decode;
      EXPECT_EQ(p.model, "llama-3.1-8b");
      EXPECT_EQ(p.layers, 32);
      continue;
    }
    batches.insert(p.batch);
    contexts.insert(p.context);
    windows.insert(p.window);
    budgets.insert(p.budget);
    threads.insert(p.threads);
  }
  EXPECT_EQ(decode, 6);
  EXPECT_NEAR(holdout, static_cast<int>(a.size()) / 3, 1);
  EXPECT_EQ(batches, (std::set<int>{1, 4, 16, 64}));
  EXPECT_EQ(contexts, (std::set<std::int64_t>{4096, 16384, 32768, 131072}));
  EXPECT_EQ(windows, (std::set<std::int64_t>{256, 1024, 4096, 8192}));
  EXPECT_EQ(budgets, (std::set<std::string>{"64", "1%", "5%", "10%"}));
  EXPECT_EQ(threads, (std::set<int>{4, 8, 15}));
}

TEST(Grid, QuickPresetAndUnknownName) {
  const auto q = preset_points("quick");
  EXPECT_EQ(q.size(), 5u);
  EXPECT_EQ(q.back().kind, PointKind::DecodeStep);
  EXPECT_THROW(preset_points("huge"), GridError);
}

TEST(Grid, GridFileAndItsErrors) {
  const auto dir = std::filesystem::temp_directory_path() / ("hgca-validation-grid-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "g.yaml").string();
  std::ofstream(path) << "points:\n  - {batch: 4, context: 8192, window: 1024, budget: 5%, threads: 8}\n"
                         "  - {kind: decode-step, batch: 1, context: 8192, window: 4096, budget: '64', role: fit}\n"
                         "  - {batch: 2, context: 4096, window: 256, budget: 1%, threads: 4, cpu_task: head}\n";
  const auto g = read_grid_file(path);
  ASSERT_EQ(g.size(), 3u);
  EXPECT_EQ(g[0].cpu_select, 358);  // 0.05 x 7168 = 358.4
  EXPECT_EQ(g[1].kind, PointKind::DecodeStep);
  EXPECT_EQ(g[1].layers, 32);
  EXPECT_EQ(g[2].role, PointRole::Holdout);  // id 2, the fixed rule
  std::ofstream(path) << "points:\n  - {batch: 4, context: 8192, window: 1024, budget: 5%, threds: 8}\n";
  try {
    read_grid_file(path);
    FAIL() << "no error";
  } catch (const GridError& e) {
    EXPECT_NE(std::string(e.what()).find("points[0].threds: unknown key"), std::string::npos) << e.what();
  }
  std::ofstream(path) << "points:\n  - {batch: 4, context: 8192, window: 1024, budget: 5%, cpu_task: thread}\n";
  EXPECT_THROW(read_grid_file(path), GridError);
  std::filesystem::remove_all(dir);
}

// ---------------------------------------------------------------- measured table

TEST(MeasuredTable, ReadsTheSmallTableAndRoundTrips) {
  const auto rows = read_measured(kSmall);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].point.cpu_select, 768);
  EXPECT_EQ(rows[0].line, 3);
  EXPECT_DOUBLE_EQ(rows[0].phases.cpu_attention_ms, 1.3);
  EXPECT_EQ(rows[1].point.cpu_task, "head");
  EXPECT_EQ(rows[3].point.kind, PointKind::DecodeStep);
  EXPECT_EQ(rows[3].point.model, "llama-3.1-8b");
  std::ostringstream out;
  write_measured(out, rows);
  std::istringstream in(out.str());
  const auto back = parse_measured(in, "round-trip");
  ASSERT_EQ(back.size(), rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(back[i].point.id, rows[i].point.id);
    EXPECT_EQ(back[i].point.budget, rows[i].point.budget);
    EXPECT_EQ(back[i].total_ms, rows[i].total_ms);
    EXPECT_EQ(back[i].total_p90_ms, rows[i].total_p90_ms);
    EXPECT_EQ(back[i].gpu, rows[i].gpu);
  }
}

TEST(MeasuredTable, OneLineErrors) {
  const std::string row = "0,fit,attention,,1,4,32,8,128,16384,1024,5%,768,8,kv_group,3,10,1.5,,,,,,,,,g,c,d";
  // Missing column: the header names it.
  EXPECT_EQ(error_of("id,role,kind,batch\n0,fit,attention,4\n"), "t.csv:1: missing column 'q_heads'");
  // NaN time.
  std::string nan_row = row;
  nan_row.replace(nan_row.find(",1.5,"), 5, ",nan,");
  EXPECT_EQ(error_of(header() + "\n" + nan_row + "\n"),
            "t.csv:2: column 'total_ms': 'nan' is not a finite number; expected a time in ms > 0");
  // Unknown role.
  std::string bad_role = row;
  bad_role.replace(bad_role.find("fit"), 3, "train");
  EXPECT_EQ(error_of(header() + "\n" + bad_role + "\n"),
            "t.csv:2: column 'role': 'train' is not a role; expected fit or holdout");
  // Wrong field count, more rows per head than the pool, no rows.
  EXPECT_NE(error_of(header() + "\n0,fit\n").find("t.csv:2: 2 fields; expected 29"), std::string::npos);
  std::string too_many = row;
  too_many.replace(too_many.find(",768,"), 5, ",99999,");
  EXPECT_NE(error_of(header() + "\n" + too_many + "\n").find("column 'cpu_select'"), std::string::npos);
  EXPECT_EQ(error_of(header() + "\n"), "t.csv: no rows; expected at least one measured point");
  for (const std::string& e : {error_of("id,role,kind,batch\n"), error_of(header() + "\n" + nan_row + "\n")})
    EXPECT_EQ(e.find('\n'), std::string::npos);
}

TEST(MeasuredTable, PassMediansRoundTripAndTheirErrors) {
  // A table written before pass_ms existed still reads, with no passes recorded.
  const auto old = read_measured(kSmall);
  for (const MeasuredRow& r : old) {
    EXPECT_TRUE(r.pass_ms.empty());
    EXPECT_TRUE(std::isnan(pass_standard_error(r)));
  }
  MeasuredRow r = old[0];
  r.pass_ms = {1.25, 1.5, 2.0625};
  std::ostringstream out;
  write_measured(out, {r});
  EXPECT_NE(out.str().find(",1.25 1.5 2.0625,"), std::string::npos) << out.str();
  std::istringstream in(out.str());
  const auto back = parse_measured(in, "round-trip");
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].pass_ms, r.pass_ms);

  const std::string row = "0,fit,attention,,1,4,32,8,128,16384,1024,5%,768,8,kv_group,3,10,1.5,,,,,,,,PASSES,g,c,d";
  auto with = [&](const std::string& passes) {
    std::string x = row;
    x.replace(x.find("PASSES"), 6, passes);
    return header() + "\n" + x + "\n";
  };
  EXPECT_EQ(error_of(with("1.4 nan")),
            "t.csv:2: column 'pass_ms': 'nan' is not a finite number; expected times in ms > 0 separated by spaces, one per pass");
  EXPECT_EQ(error_of(with("1.4 -2")),
            "t.csv:2: column 'pass_ms': -2 is not positive; expected times in ms > 0 separated by spaces, one per pass");
  EXPECT_EQ(error_of(with("1.4;1.6")),
            "t.csv:2: column 'pass_ms': '1.4;1.6' is not a number; expected times in ms > 0 separated by spaces, one per pass");
  EXPECT_EQ(error_of(with("1.4 1.6")), "");
}

TEST(MeasuredTable, StandardErrorFromThePasses) {
  MeasuredRow r;
  r.total_ms = 2;
  r.pass_ms = {1, 2, 3};  // sample sd 1, over sqrt(3) passes, relative to the 2 ms figure
  EXPECT_NEAR(pass_standard_error(r), 1.0 / std::sqrt(3.0) / 2.0, 1e-15);
  r.pass_ms = {2, 2};
  EXPECT_EQ(pass_standard_error(r), 0.0);
  r.pass_ms = {2};
  EXPECT_TRUE(std::isnan(pass_standard_error(r)));
}

// ---------------------------------------------------------------- experiment for a row

MeasuredRow row_with(std::int64_t context, std::int64_t window, std::int64_t select, int threads, const char* task) {
  MeasuredRow r;
  r.point.batch = 4;
  r.point.context = context;
  r.point.window = window;
  r.point.cpu_select = select;
  r.point.threads = threads;
  r.point.cpu_task = task;
  r.total_ms = 1;
  return r;
}

TEST(ExperimentForRow, PlacesTheRunnersTokensWithoutEviction) {
  const HardwareProfile hw = load_hardware(kSource + "/configs/hw/device-h100.yaml");
  for (const std::int64_t context : {16384, 16385}) {  // even and odd pool
    const MeasuredRow r = row_with(context, 1024, 100, 8, "kv_group");
    const Experiment e = experiment_for(r, hw);
    // The compared step is the second; its context (once the token is appended) is the runner's context.
    EXPECT_EQ(e.workload.prompt + kComparedStep + 1, context);
    EXPECT_EQ(e.workload.decode, kComparedStep + 1);
    const WindowLayout w = WindowLayout::of(context, e.system.sinks, e.system.window, e.system.eviction_batch);
    EXPECT_EQ(w.gpu, 1024) << context;
    EXPECT_EQ(w.cpu, context - 1024) << context;
    EXPECT_FALSE(w.evicts_now) << context;
    EXPECT_EQ(e.system.selection.source, SelectionSource::TopK);
    EXPECT_EQ(e.system.selection.top_k, 100);
    EXPECT_EQ(e.system.cpu_threads, 8);
    EXPECT_EQ(e.system.cpu_task, CpuTaskGranularity::KvHead);
    EXPECT_TRUE(e.system.attention_only);
    EXPECT_EQ(e.model.layers, 1);
    EXPECT_EQ(e.model.kv_bytes_per_elem, 2);
    // The runner's lists are drawn outside its timing: no selection work, new lists every step.
    EXPECT_EQ(e.system.selection_method, SelectionMethod::Given);
  }
  EXPECT_EQ(experiment_for(row_with(8192, 1024, 10, 4, "head"), hw).system.cpu_task, CpuTaskGranularity::Head);
  EXPECT_THROW(experiment_for(row_with(1025, 1024, 1, 4, "head"), hw), std::runtime_error);  // 1 pool row
}

// The prediction for a row equals running the simulator on a hand-written YAML of the same configuration.
TEST(ExperimentForRow, PredictionEqualsTheHandWrittenYaml) {
  const HardwareProfile hw = load_hardware(kSource + "/configs/hw/device-h100.yaml");
  const auto rows = read_measured(kSmall);
  const auto pred = predict_rows({rows[0]}, hw, {}, 1);
  ASSERT_EQ(pred.size(), 1u);
  ASSERT_TRUE(pred[0].feasible);
  const auto dir = std::filesystem::temp_directory_path() / ("hgca-validation-yaml-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "row0.yaml").string();
  // Row 0: batch 4, 32/8/128, context 16384, window 1024, 768 rows per head, 8 threads, kv_group tasks.
  std::ofstream(path) << "hardware: {base: " << kSource << "/configs/hw/device-h100.yaml, gpu: {memory: 1000 TB}, cpu: {memory: 1000 TB}}\n"
                      << "model: {name: attention-32x8x128, layers: 1, q_heads: 32, kv_heads: 8, head_dim: 128, hidden: 4096,\n"
                         "        intermediate: 4096, vocab: 1, weight_dtype: fp16, kv_dtype: fp16}\n"
                         "workload: {batch: 4, prompt: 16382, decode: 2, simulate_prefill: false}\n"
                         "system:\n"
                         "  strategy: hgca\n"
                         "  window: 1023\n"
                         "  eviction_batch: 2\n"
                         "  sinks: 0\n"
                         "  selection: {source: topk, top_k: 768}\n"
                         "  selection_method: reuse-last\n"
                         "  reselect_interval: 2\n"
                         "  cpu_threads: 8\n"
                         "  cpu_task: kv-head\n"
                         "  cpu_schedule: dynamic\n"
                         "  attention_only: true\n";
  const auto exps = load_experiment(path);
  ASSERT_EQ(exps.size(), 1u);
  const RunResult r = simulate(exps[0]);
  ASSERT_TRUE(r.feasible) << r.infeasible_reason;
  ASSERT_EQ(r.step_latency_s.size(), 2u);
  EXPECT_DOUBLE_EQ(pred[0].predicted_ms, r.step_latency_s[1] * 1e3);
  EXPECT_DOUBLE_EQ(pred[0].error, (pred[0].predicted_ms - 1.5) / 1.5);
  std::filesystem::remove_all(dir);
}

TEST(ExperimentForRow, DecodeStepUsesTheNamedModel) {
  const HardwareProfile hw = load_hardware(kSource + "/configs/hw/device-h100.yaml");
  const auto rows = read_measured(kSmall);
  LoadOptions opts;
  const Experiment e = experiment_for(rows[3], hw, opts);
  EXPECT_EQ(e.model.name, "llama-3.1-8b");
  EXPECT_FALSE(e.system.attention_only);
  EXPECT_EQ(e.model.weight_bytes_per_param, 2);
  MeasuredRow wrong = rows[3];
  wrong.point.kv_heads = 4;
  EXPECT_THROW(experiment_for(wrong, hw, opts), std::runtime_error);
}

TEST(Predict, ResultsDoNotDependOnJobs) {
  const HardwareProfile hw = load_hardware(kSource + "/configs/hw/device-h100.yaml");
  const auto rows = read_measured(kSmall);
  const auto one = predict_rows(rows, hw, {}, 1), four = predict_rows(rows, hw, {}, 4);
  ASSERT_EQ(one.size(), 4u);
  for (std::size_t i = 0; i < one.size(); ++i) {
    EXPECT_TRUE(one[i].feasible) << one[i].note;
    EXPECT_GT(one[i].predicted_ms, 0);
    EXPECT_EQ(one[i].predicted_ms, four[i].predicted_ms);
  }
}

// ---------------------------------------------------------------- statistics

TEST(Statistics, PercentileInterpolatesLikeNumpy) {
  EXPECT_DOUBLE_EQ(percentile({3, 1, 2}, 50), 2);
  EXPECT_DOUBLE_EQ(percentile({1, 2, 3, 4}, 50), 2.5);
  // p90 of 1..5: position 0.9 x 4 = 3.6 -> 4 + 0.6 x (5 - 4)
  EXPECT_DOUBLE_EQ(percentile({5, 4, 3, 2, 1}, 90), 4.6);
  EXPECT_DOUBLE_EQ(percentile({7}, 90), 7);
  EXPECT_DOUBLE_EQ(percentile({}, 50), 0);
}

TEST(Statistics, SummaryByRoleAndKind) {
  auto row = [](PointRole role, PointKind kind, double err) {
    PredictedRow r;
    r.measured.point.role = role;
    r.measured.point.kind = kind;
    r.error = err;
    return r;
  };
  using R = PointRole;
  using K = PointKind;
  std::vector<PredictedRow> rows = {row(R::Fit, K::Attention, 0.01),     row(R::Fit, K::Attention, -0.03),
                                    row(R::Fit, K::Attention, 0.02),     row(R::Holdout, K::Attention, -0.10),
                                    row(R::Holdout, K::Attention, 0.04), row(R::Holdout, K::DecodeStep, 0.07)};
  PredictedRow infeasible = row(R::Holdout, K::Attention, 9.0);
  infeasible.feasible = false;  // not counted
  rows.push_back(infeasible);
  const auto s = summarize(rows);
  auto find = [&](const char* role, const char* kind) {
    for (const auto& e : s)
      if (e.role == role && e.kind == kind) return e;
    ADD_FAILURE() << role << " " << kind;
    return ErrorSummary{};
  };
  // fit attention |errors| 0.01 0.02 0.03: median 0.02, p90 at position 1.8 -> 0.02 + 0.8 x 0.01
  EXPECT_EQ(find("fit", "attention").count, 3);
  EXPECT_NEAR(find("fit", "attention").median_abs_error, 0.02, 1e-12);
  EXPECT_NEAR(find("fit", "attention").p90_abs_error, 0.028, 1e-12);
  // holdout attention 0.04 0.10: median 0.07, p90 0.04 + 0.9 x 0.06
  EXPECT_EQ(find("holdout", "attention").count, 2);
  EXPECT_NEAR(find("holdout", "attention").median_abs_error, 0.07, 1e-12);
  EXPECT_NEAR(find("holdout", "attention").p90_abs_error, 0.094, 1e-12);
  // all attention 0.01 0.02 0.03 0.04 0.10: median 0.03, p90 at 3.6 -> 0.04 + 0.6 x 0.06
  EXPECT_NEAR(find("all", "attention").median_abs_error, 0.03, 1e-12);
  EXPECT_NEAR(find("all", "attention").p90_abs_error, 0.076, 1e-12);
  EXPECT_NEAR(find("holdout", "decode-step").median_abs_error, 0.07, 1e-12);
  EXPECT_EQ(s.size(), 5u);  // no fit decode-step rows
  EXPECT_EQ(find("all", "attention").rows_with_passes, 0);
  EXPECT_TRUE(std::isnan(find("all", "attention").median_standard_error));
}

TEST(Statistics, SummaryCarriesTheMeasurementNoise) {
  auto row = [](PointRole role, double total, std::vector<double> passes) {
    PredictedRow r;
    r.measured.point.role = role;
    r.measured.point.kind = PointKind::Attention;
    r.measured.total_ms = total;
    r.measured.pass_ms = std::move(passes);
    r.error = 0.05;
    return r;
  };
  // Relative standard errors: passes {1, 1.5} have sample sd 0.5 / sqrt(2), over sqrt(2) passes, of a 1 ms
  // figure; passes {4, 4, 4} have sd 0; a row without passes does not count.
  const std::vector<PredictedRow> rows = {row(PointRole::Holdout, 1.0, {1.0, 1.5}), row(PointRole::Holdout, 4.0, {4, 4, 4}),
                                          row(PointRole::Holdout, 3.0, {}), row(PointRole::Fit, 2.0, {2.0, 2.2, 1.8})};
  const auto s = summarize(rows);
  const double se0 = (0.5 / std::sqrt(2.0)) / std::sqrt(2.0) / 1.0;
  for (const auto& e : s) {
    if (e.role == std::string("holdout")) {
      EXPECT_EQ(e.rows_with_passes, 2);
      EXPECT_NEAR(e.median_standard_error, se0 / 2, 1e-15);  // median of {se0, 0}
    }
    if (e.role == std::string("fit")) {
      EXPECT_EQ(e.rows_with_passes, 1);
      EXPECT_NEAR(e.median_standard_error, 0.2 / std::sqrt(3.0) / 2.0, 1e-15);
    }
  }
}

TEST(Statistics, PassDriftIsTheMedianOverRowsOfEachPassAgainstItsRow) {
  MeasuredRow a, b, c, lone;
  a.pass_ms = {1.2, 1.0, 1.0};  // row medians 1.0, 2.0 and 4.0: pass 1 is +20 %, +10 % and +50 % off its row's
  b.pass_ms = {2.2, 2.0, 1.8};
  c.pass_ms = {6.0, 4.0, 2.0};
  lone.pass_ms = {9.0};         // one pass says nothing about drift and is left out
  const PassDrift drift = pass_drift({a, b, c, lone});
  EXPECT_EQ(drift.rows, 3);
  const std::vector<double>& d = drift.by_pass;
  ASSERT_EQ(d.size(), 3u);
  EXPECT_NEAR(d[0], 0.2, 1e-12);   // median of +20 %, +10 %, +50 %
  EXPECT_NEAR(d[1], 0.0, 1e-12);   // 0, 0, 0
  EXPECT_NEAR(d[2], -0.1, 1e-12);  // median of 0, -10 %, -50 %
  EXPECT_TRUE(pass_drift({lone}).by_pass.empty());
  EXPECT_EQ(pass_drift({lone}).rows, 0);
  EXPECT_EQ(describe_pass_drift({lone}), "");

  // Rows with different pass counts: a pass is judged over the rows that reached it.
  MeasuredRow two;
  two.pass_ms = {1.0, 3.0};  // median 2: -50 %, +50 %
  const std::vector<double> mixed = pass_drift({a, two}).by_pass;
  ASSERT_EQ(mixed.size(), 3u);
  EXPECT_NEAR(mixed[0], 0.5 * (0.2 - 0.5), 1e-12);
  EXPECT_NEAR(mixed[2], 0.0, 1e-12);  // a alone

  const std::string line = describe_pass_drift({a, b, c});
  EXPECT_EQ(line.rfind("passes against each row's median over its passes (3 rows): pass 1 +20.0 %, pass 2 +0.0 %, pass 3 -10.0 %; a whole pass 5 % or more off", 0), 0u) << line;
  MeasuredRow steady;
  steady.pass_ms = {1.0, 1.02, 0.99};
  EXPECT_EQ(describe_pass_drift({steady}).find("off"), std::string::npos) << describe_pass_drift({steady});
}

}  // namespace
}  // namespace hgca::validation
