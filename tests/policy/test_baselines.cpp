// The authors' baselines on tiny cases, each against what it must move or keep, computed by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "sim/model/model_costs.hpp"
#include "sim/runner/simulate.hpp"
#include "tests/support/fixtures.hpp"

namespace hgca {
namespace {

// tiny model: 2 KV heads x 128 dims x 2 B x (K + V) = 1 KiB of KV per token and layer.
constexpr double kKvLayer = 1024;

TEST(Baselines, FlexGenFetchesEveryCpuResidentTokenPerLayer) {
  Experiment e = test::simple_experiment("flexgen", 2, 4000, 1);
  e.model = test::tiny_model(3);
  const RunResult r = simulate(e);
  ASSERT_TRUE(r.feasible) << r.infeasible_reason;
  // One step, 3 layers, each fetches 2 x 4000 old tokens: 5 us latency + bytes / 50 GB/s.
  const double fetch = 5e-6 + 2 * 4000 * kKvLayer / 50e9;
  EXPECT_NEAR(r.busy.h2d, 3 * fetch, 1e-12);
  EXPECT_GE(r.step_p50_s, 3 * fetch);
  EXPECT_DOUBLE_EQ(r.cpu_memory.kv, 2 * 4001 * kKvLayer * 3);
  // Half the KV on the GPU halves what crosses the link.
  e.system.flexgen.kv_on_gpu = 0.5;
  EXPECT_NEAR(simulate(e).busy.h2d, 3 * (5e-6 + 2 * 2000 * kKvLayer / 50e9), 1e-12);
}

TEST(Baselines, FlexGenCpuAttentionReadsTheKvOnTheCores) {
  Experiment e = test::simple_experiment("flexgen", 1, 4000, 1);
  e.system.flexgen.cpu_attention = true;
  const RunResult r = simulate(e);
  ASSERT_TRUE(r.feasible);
  // 8 per-head tasks on 8 cores at 10 GB/s each: every query head streams its KV head's 4000 rows of 512 B.
  EXPECT_NEAR(r.busy.cpu_core_seconds, 8 * 4000 * 512 / 10e9, 1e-12);
  EXPECT_LT(r.busy.h2d, 1e-5);  // only the partial results come back
}

TEST(Baselines, H2oKeepsItsBudgetOnTheGpuAndDropsTheRest) {
  Experiment e = test::simple_experiment("h2o", 2, 10000, 2);
  const RunResult r = simulate(e);
  ASSERT_TRUE(r.feasible);
  EXPECT_DOUBLE_EQ(r.gpu_memory.kv, 2 * std::ceil(0.2 * 10002) * kKvLayer);
  EXPECT_EQ(r.cpu_memory.kv, 0);
  EXPECT_EQ(r.busy.h2d + r.busy.d2h, 0);
  e.system.strategy = "gpu-full";
  EXPECT_LT(r.step_p50_s, simulate(e).step_p50_s);  // attends over a fifth of the context
}

TEST(Baselines, InfiniGenFetchesItsSpeculatedShareOneLayerAhead) {
  Experiment e = test::simple_experiment("infinigen", 1, 5000, 1);
  e.model = test::tiny_model(2);
  const RunResult r = simulate(e);
  ASSERT_TRUE(r.feasible);
  // Per layer: ceil(0.2 x 5000) = 1000 rows of each of the 2 KV heads: 1000 x 1 KiB, over the link.
  EXPECT_NEAR(r.busy.h2d, 2 * (5e-6 + 1000 * kKvLayer / 50e9), 1e-12);
  // Partial keys of every token stay on the GPU: 20% of the key bytes (2 heads x 128 x 2 B).
  EXPECT_DOUBLE_EQ(r.gpu_memory.metadata, 5001 * 0.2 * 2 * 128 * 2 * 2);
  EXPECT_DOUBLE_EQ(r.cpu_memory.kv, 5001 * kKvLayer * 2);
}

}  // namespace
}  // namespace hgca
