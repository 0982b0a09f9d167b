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
    hits.push_back(llc_hit_share(e.hardware.cpu.llc_bytes, 0, t.llc_working_set, t.llc_touched, 0));
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
      EXPECT_DOUBLE_EQ(t.llc_touched, 1.0);  // dense: every row, every step
      EXPECT_DOUBLE_EQ(llc_hit_share(llc, 0, t.llc_working_set, t.llc_touched, 0), llc / (2.0 * 4000 * 2 * 512));
    }
  }
}

// The touched share: the union of a KV group's per-head lists (independent draws), the shared list of a
// KV-head selection, or every row on a step that scans the keys.
TEST(LlcWorkingSet, TouchedShareIsTheShareOfRowsOneStepReads) {
  Experiment e = step_experiment(1, 0);
  e.system.selection = SelectionSpec{};
  e.system.selection.source = SelectionSource::TopK;
  e.system.selection.top_k = 100;
  e.system.selection.granularity = SelectionGranularity::QueryHead;
  e.system.selection_method = SelectionMethod::ReuseLast;
  e.system.reselect_interval = 2;
  const ModelCosts c(e.model);
  const int g = c.group_size();
  ASSERT_GT(g, 1);
  const std::vector<int64_t> entries{1000, 1000};
  {
    const SelectionModel sel(e.system.selection, e.model, 1);
    const StrategyContext ctx{e, c, sel};
    const StepCacheUse reuse = sparse_step_cache_use(ctx, 0, /*step=*/1, entries);
    EXPECT_DOUBLE_EQ(reuse.working_set, step_cpu_working_set(ctx, entries));
    EXPECT_NEAR(reuse.touched, 1.0 - std::pow(1.0 - 0.1, g), 1e-12);
    EXPECT_DOUBLE_EQ(sparse_step_cache_use(ctx, 0, /*step=*/0, entries).touched, 1.0);  // the scan step
  }
  e.system.selection.granularity = SelectionGranularity::KvHead;
  const SelectionModel shared(e.system.selection, e.model, 1);
  const StrategyContext ctx{e, c, shared};
  EXPECT_NEAR(sparse_step_cache_use(ctx, 0, 1, entries).touched, 0.1, 1e-12);
}

}  // namespace
}  // namespace hgca
