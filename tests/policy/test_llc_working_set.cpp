// The last-level-cache rule for a step's CPU attention tasks: the working set is the CPU-resident K and V rows
// of every layer the step attends (each layer reads its own pool once per step), and the tasks are marked
// cache-resident exactly when it fits in cpu.llc_bytes.
#include <gtest/gtest.h>

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

// The decode step's CPU tasks: how many, and how many are marked cache-resident.
std::pair<int, int> step_tasks(const Experiment& e) {
  const StepGraph g = test::decode_step_graph(e);  // 4 sequences at 1668 + 1 tokens
  int resident = 0;
  for (const CpuTask& t : g.tasks()) resident += t.llc_resident;
  return {static_cast<int>(g.tasks().size()), resident};
}

TEST(LlcWorkingSet, OneLayerPoolFitsOrNot) {
  const auto [n_fit, r_fit] = step_tasks(step_experiment(1, kLayerPool));  // exactly the pool: fits
  EXPECT_GT(n_fit, 0);
  EXPECT_EQ(r_fit, n_fit);
  const auto [n_big, r_big] = step_tasks(step_experiment(1, kLayerPool - 1));
  EXPECT_GT(n_big, 0);
  EXPECT_EQ(r_big, 0);
}

TEST(LlcWorkingSet, AllLayersOfTheStepMustFit) {
  // One layer's pool fits in 2 pools' worth of cache, four layers' do not: each layer reads its own pool.
  const auto [n4, r4] = step_tasks(step_experiment(4, 2 * kLayerPool));
  EXPECT_GT(n4, 0);
  EXPECT_EQ(r4, 0);
  const auto [n4_fit, r4_fit] = step_tasks(step_experiment(4, 4 * kLayerPool));
  EXPECT_EQ(r4_fit, n4_fit);
  EXPECT_EQ(n4_fit, n4);
}

TEST(LlcWorkingSet, NoCacheModelMarksNothing) {
  const auto [n, r] = step_tasks(step_experiment(1, 0));
  EXPECT_GT(n, 0);
  EXPECT_EQ(r, 0);
}

TEST(LlcWorkingSet, DenseTasksUseTheSameRule) {
  const Experiment e = step_experiment(2, 0);
  const ModelCosts c(e.model);
  const SelectionModel sel(e.system.selection, e.model, 1);
  const StrategyContext ctx{e, c, sel};
  const std::vector<int64_t> entries{1000, 0, 3000};
  // 2 layers x 4000 tokens x 2 KV heads x 512 B
  EXPECT_DOUBLE_EQ(step_cpu_working_set(ctx, entries), 2.0 * 4000 * 2 * 512);
  for (double llc : {2.0 * 4000 * 2 * 512, 2.0 * 4000 * 2 * 512 - 1}) {
    Experiment e2 = e;
    e2.hardware.cpu.llc_bytes = llc;
    const StrategyContext ctx2{e2, c, sel};
    StepGraph g;
    g.cpu_batch(0, "attention", 0);
    add_dense_attention_tasks(g, ctx2, entries);
    ASSERT_FALSE(g.tasks().empty());
    for (const CpuTask& t : g.tasks()) EXPECT_EQ(t.llc_resident, llc >= 2.0 * 4000 * 2 * 512);
  }
}

}  // namespace
}  // namespace hgca
