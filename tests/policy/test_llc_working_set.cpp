// What a step's CPU attention tasks tell the last-level-cache model: the working set is the CPU-resident K and V
// rows of every layer the step attends (each layer reads its own pool once per step), and the touched share the
// rows one step reads. Without other traffic every task's hit share is then cpu.llc_bytes / that working set, at
// most 1 (sim/hw/llc_residency.hpp).
#include <gtest/gtest.h>

#include <cmath>

#include "sim/hw/llc_residency.hpp"
#include "sim/hw/op_graph.hpp"
#include "sim/model/model_costs.hpp"
#include "sim/policy/cpu_attention_tasks.hpp"
#include "sim/policy/strategy.hpp"
#include "tests/support/decode_step.hpp"
#include "tests/support/fixtures.hpp"

namespace hgca {
namespace {

// 4 sequences of context 1669: 1029 tokens on the GPU, 640 in CPU memory (window 1024, eviction batch 64).
// One layer's CPU-resident KV: 4 sequences x 640 tokens x 2 KV heads x (K + V: 2 x 128 x 2 B) = 2,621,440 B.
constexpr double kLayerPool = 4.0 * 640 * 2 * 512;

Experiment step_experiment(int layers, double llc_bytes) {
  Experiment e = test::simple_experiment("hgca", 4, 1668, 1);
  e.model = test::tiny_model(layers);
  e.hardware.cpu.llc_bytes = llc_bytes;
  e.hardware.cpu.llc_bandwidth_factor = 3;
  return e;
}

// The decode step's CPU tasks: how many, and every task's hit share without other traffic (all tasks of a step
// get the same).
std::pair<int, std::vector<double>> step_tasks(const Experiment& e) {
  const StepGraph g = test::decode_step_graph(e);  // 4 sequences at 1668 + 1 tokens
  std::vector<double> hits;
  for (const CpuTask& t : g.tasks())
    hits.push_back(llc_hit_share(e.hardware.cpu.llc_bytes, 0, t.llc, 0));
  return {static_cast<int>(g.tasks().size()), hits};
}

TEST(LlcWorkingSet, HitShareIsTheCacheOverTheOneLayerPool) {
  const auto [n_fit, h_fit] = step_tasks(step_experiment(1, kLayerPool));  // exactly the pool: every read hits
  EXPECT_GT(n_fit, 0);
  for (double h : h_fit) EXPECT_EQ(h, 1.0);
  const auto [n_big, h_big] = step_tasks(step_experiment(1, 2 * kLayerPool));  // roomier: still 1, never more
  for (double h : h_big) EXPECT_EQ(h, 1.0);
  const auto [n_small, h_small] = step_tasks(step_experiment(1, kLayerPool / 4));
  EXPECT_EQ(n_small, n_fit);
  for (double h : h_small) EXPECT_DOUBLE_EQ(h, 0.25);
}

TEST(LlcWorkingSet, AllLayersOfTheStepShareTheCache) {
  // Each layer reads its own pool: four layers' pools in two pools' worth of cache hit half the time.
  const auto [n4, h4] = step_tasks(step_experiment(4, 2 * kLayerPool));
  EXPECT_GT(n4, 0);
  for (double h : h4) EXPECT_DOUBLE_EQ(h, 0.5);
  const auto [n4_fit, h4_fit] = step_tasks(step_experiment(4, 4 * kLayerPool));
  EXPECT_EQ(n4_fit, n4);
  for (double h : h4_fit) EXPECT_EQ(h, 1.0);
}

TEST(LlcWorkingSet, NoCacheModelHitsNothing) {
  const auto [n, h] = step_tasks(step_experiment(1, 0));
  EXPECT_GT(n, 0);
  for (double x : h) EXPECT_EQ(x, 0.0);
}

TEST(LlcWorkingSet, DenseTasksUseTheSameRule) {
  const Experiment e = step_experiment(2, 0);
  const ModelCosts c(e.model);
  const SelectionModel sel(e.system.selection, e.model, 1);
  const StrategyContext ctx{e, c, sel};
  const std::vector<int64_t> entries{1000, 0, 3000};
  // 2 layers x 4000 tokens x 2 KV heads x 512 B
  EXPECT_DOUBLE_EQ(step_cpu_working_set(ctx, entries), 2.0 * 4000 * 2 * 512);
  for (double llc : {2.0 * 4000 * 2 * 512, 4000.0 * 2 * 512}) {
    Experiment e2 = e;
    e2.hardware.cpu.llc_bytes = llc;
    const StrategyContext ctx2{e2, c, sel};
    StepGraph g;
    g.cpu_batch(0, "attention", 0);
    add_dense_attention_tasks(g, ctx2, entries);
    ASSERT_FALSE(g.tasks().empty());
    for (const CpuTask& t : g.tasks()) {
      EXPECT_EQ(t.llc, LlcReads::drawn(2.0 * 4000 * 2 * 512, 1.0));  // dense: every row, every step
      EXPECT_DOUBLE_EQ(llc_hit_share(llc, 0, t.llc, 0), llc / (2.0 * 4000 * 2 * 512));
    }
  }
}

// How a step reads its rows: the share u its lists pick is the union of a KV group's per-head lists
// (independent draws) or the shared list of a KV-head selection; given lists are new every step; a key scan
// reads every key every step; reuse-last reads the same rows through an interval and the other keys on its
// rescan. The tiny model's K and V rows are the same size: the keys are half of a row.
TEST(LlcWorkingSet, HowAStepReadsItsRowsFollowsTheSelectionMethod) {
  Experiment e = step_experiment(1, 0);
  e.system.selection = SelectionSpec{};
  e.system.selection.source = SelectionSource::TopK;
  e.system.selection.top_k = 100;
  e.system.selection.granularity = SelectionGranularity::QueryHead;
  const ModelCosts c(e.model);
  const int g = c.group_size();
  ASSERT_GT(g, 1);
  ASSERT_DOUBLE_EQ(c.key_bytes_per_token_head() / c.kv_bytes_per_token_head(), 0.5);
  const std::vector<int64_t> entries{1000, 1000};
  const double u = 1.0 - std::pow(1.0 - 0.1, g);  // 100 of 1000 rows per head, g heads per KV head
  const SelectionModel per_head(e.system.selection, e.model, 1);
  auto reads = [&](SelectionMethod m, int interval, int step, const SelectionModel& sel) {
    Experiment x = e;
    x.system.selection_method = m;
    x.system.reselect_interval = interval;
    const StrategyContext ctx{x, c, sel};
    return sparse_step_cache_use(ctx, 0, step, entries);
  };
  const StrategyContext ctx{e, c, per_head};
  const double ws = step_cpu_working_set(ctx, entries);
  for (int step : {0, 1, 5}) {
    const LlcReads given = reads(SelectionMethod::Given, 8, step, per_head);
    EXPECT_EQ(given.working_set, ws);
    EXPECT_EQ(given.lines[0].share, 1.0);
    EXPECT_NEAR(given.lines[0].per_period, u, 1e-12);
    EXPECT_NEAR(given.lines[0].read_now, u, 1e-12);
    EXPECT_EQ(given.lines[1].share + given.lines[2].share, 0.0);

    const LlcReads scan = reads(SelectionMethod::KeyScan, 8, step, per_head);
    EXPECT_EQ(scan.lines[0], (LlcLines{0.5, 1, 1}));  // the keys, every step
    EXPECT_EQ(scan.lines[1].share, 0.5);               // the values of the picked rows, drawn afresh
    EXPECT_NEAR(scan.lines[1].per_period, u, 1e-12);
    EXPECT_NEAR(scan.lines[1].read_now, u, 1e-12);
    EXPECT_EQ(reads(SelectionMethod::ReuseLast, 1, step, per_head), scan);  // rescanning every step
  }
  // Reuse-last every 4 steps: the picked rows every step; the other keys on the rescan (step 0), 1 in 4 periods.
  for (int step : {0, 1, 3}) {
    const LlcReads r = reads(SelectionMethod::ReuseLast, 4, step, per_head);
    EXPECT_NEAR(r.lines[0].share, u, 1e-12);
    EXPECT_NEAR(r.lines[0].per_period, 1 - (1 - u) / 4, 1e-12);
    EXPECT_EQ(r.lines[0].read_now, 1.0);
    EXPECT_NEAR(r.lines[1].share, 0.5 * (1 - u), 1e-12);
    EXPECT_EQ(r.lines[1].per_period, 0.25);
    EXPECT_EQ(r.lines[1].read_now, step == 0 ? 1.0 : 0.0);
    EXPECT_NEAR(r.lines[2].share, 0.5 * (1 - u), 1e-12);
    EXPECT_NEAR(r.lines[2].per_period, u / 4, 1e-12);
    EXPECT_EQ(r.lines[2].read_now, 0.0);
  }
  e.system.selection.granularity = SelectionGranularity::KvHead;
  const SelectionModel shared(e.system.selection, e.model, 1);
  EXPECT_NEAR(reads(SelectionMethod::Given, 8, 1, shared).lines[0].per_period, 0.1, 1e-12);  // one list per group
}

// With other traffic, what a key scan reads decides what it finds: counting the values of rows it does not
// pick as read (every row, every step) would have them crowd out the keys the next step reads again.
TEST(LlcWorkingSet, AKeyScanKeepsItsKeysRatherThanValuesItDoesNotRead) {
  Experiment e = step_experiment(1, kLayerPool / 2);
  e.hardware.cpu.llc_residency_s = 2e-3;
  e.system.selection = SelectionSpec{};
  e.system.selection.source = SelectionSource::TopK;
  e.system.selection.top_k = 20;
  e.system.selection_method = SelectionMethod::KeyScan;
  const ModelCosts c(e.model);
  const SelectionModel sel(e.system.selection, e.model, 1);
  const StrategyContext ctx{e, c, sel};
  const std::vector<int64_t> entries{640, 640, 640, 640};
  const LlcReads scan = sparse_step_cache_use(ctx, 0, 0, entries);
  const double cache = e.hardware.cpu.llc_bytes, period = 100e-6;
  const double h = llc_hit_share(cache, 2e-3, scan, period);
  EXPECT_GT(h, llc_hit_share(cache, 2e-3, LlcReads::drawn(scan.working_set, 1.0), period) + 0.1);
  EXPECT_LE(h, 1.0);
}

}  // namespace
}  // namespace hgca
