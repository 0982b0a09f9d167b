#include <gtest/gtest.h>

#include "sim/model/model_costs.hpp"
#include "sim/runner/simulate.hpp"
#include "tests/support/fixtures.hpp"

namespace hgca {
namespace {

TEST(Strategies, GpuFullIsInfeasibleOnceTheKvCacheOutgrowsTheGpu) {
  Experiment e = test::simple_experiment("gpu-full", 64, 200000, 4);
  e.model = test::tiny_model(32);  // 32 KiB of KV per token: 419 GB in all
  e.hardware.gpu.memory_bytes = 24e9;
  const RunResult r = simulate(e);
  EXPECT_FALSE(r.feasible);
  EXPECT_NE(r.infeasible_reason.find("GPU memory"), std::string::npos) << r.infeasible_reason;
  EXPECT_NE(r.infeasible_reason.find("KV"), std::string::npos);
  // The same workload fits with hgca: only the window stays on the GPU.
  e.system.strategy = "hgca";
  const RunResult h = simulate(e);
  EXPECT_TRUE(h.feasible) << h.infeasible_reason;
  EXPECT_GT(h.tokens_per_s, 0);
  EXPECT_GT(h.cpu_memory.kv, h.gpu_memory.kv);
}

TEST(Strategies, CpuMemoryLimitsOffloadingStrategies) {
  Experiment e = test::simple_experiment("cpu-full", 64, 200000, 4);
  e.model = test::tiny_model(32);
  e.hardware.cpu.memory_bytes = 256e9;
  const RunResult r = simulate(e);
  EXPECT_FALSE(r.feasible);
  EXPECT_NE(r.infeasible_reason.find("CPU memory"), std::string::npos) << r.infeasible_reason;
}

TEST(Strategies, OffloadFetchIsBoundByPcie) {
  Experiment e = test::simple_experiment("offload-fetch", 8, 32768, 2);
  const ModelCosts c(e.model);
  const RunResult r = simulate(e);
  ASSERT_TRUE(r.feasible);
  // Every step must move the whole KV cache over the link at least once.
  const double kv = 8.0 * 32768 * c.kv_bytes_per_token_layer() * e.model.layers;
  EXPECT_GE(r.step_p50_s, kv / e.hardware.pcie.h2d.bandwidth);
  EXPECT_LE(r.step_p50_s, 1.5 * kv / e.hardware.pcie.h2d.bandwidth + 1e-3);
}

TEST(Strategies, CpuFullIsBoundByCpuMemoryBandwidth) {
  Experiment e = test::simple_experiment("cpu-full", 8, 32768, 2);
  e.system.cpu_task = CpuTaskGranularity::KvHead;  // each KV head read once
  const ModelCosts c(e.model);
  const RunResult r = simulate(e);
  ASSERT_TRUE(r.feasible);
  const double kv = 8.0 * 32769 * c.kv_bytes_per_token_layer() * e.model.layers;
  const double bw = e.hardware.cpu.bandwidth_by_threads.back().second;
  EXPECT_GE(r.step_p50_s, kv / bw);
  EXPECT_LE(r.step_p50_s, 1.3 * kv / bw + 1e-4);
}

TEST(Strategies, PerHeadTasksReadSharedKeysOncePerHeadGroupedTasksOnce) {
  Experiment e = test::simple_experiment("cpu-full", 8, 32768, 2);
  e.system.cpu_task = CpuTaskGranularity::Head;
  const RunResult per_head = simulate(e);
  e.system.cpu_task = CpuTaskGranularity::KvHead;
  const RunResult grouped = simulate(e);
  // 4 query heads per KV head: per-head tasks read 4x the bytes
  EXPECT_NEAR(per_head.busy.cpu_core_seconds / grouped.busy.cpu_core_seconds, 4.0, 0.2);
}

TEST(Strategies, WindowOnlyCostsDoNotGrowWithContext) {
  Experiment e = test::simple_experiment("window-only", 8, 8192, 2);
  const double short_ctx = simulate(e).step_p50_s;
  e.workload.prompt = 65536;
  const double long_ctx = simulate(e).step_p50_s;
  EXPECT_NEAR(short_ctx, long_ctx, 1e-9);
}

TEST(Strategies, HgcaBeatsFullOffloadAtLongContext) {
  Experiment e = test::simple_experiment("hgca", 16, 65536, 4);
  e.system.selection_method = SelectionMethod::BlockSummary;
  const double hgca = simulate(e).tokens_per_s;
  e.system.strategy = "offload-fetch";
  const double fetch = simulate(e).tokens_per_s;
  e.system.strategy = "cpu-full";
  const double cpu = simulate(e).tokens_per_s;
  EXPECT_GT(hgca, fetch);
  EXPECT_GT(hgca, cpu);
}

TEST(Strategies, FetchTopKMovesOnlySelectedRows) {
  Experiment e = test::simple_experiment("fetch-topk", 8, 65536, 2);
  e.system.selection.granularity = SelectionGranularity::KvHead;
  const RunResult f = simulate(e);
  ASSERT_TRUE(f.feasible);
  e.system.strategy = "offload-fetch";
  const RunResult o = simulate(e);
  EXPECT_LT(f.busy.h2d, 0.2 * o.busy.h2d);
  EXPECT_GT(f.tokens_per_s, o.tokens_per_s);
}

TEST(Strategies, SameSeedGivesBitIdenticalResults) {
  Experiment e = test::simple_experiment("hgca", 8, 16384, 16);
  e.system.selection.source = SelectionSource::Distribution;
  e.seed = 42;
  const RunResult a = simulate(e), b = simulate(e);
  ASSERT_EQ(a.step_latency_s.size(), b.step_latency_s.size());
  for (size_t i = 0; i < a.step_latency_s.size(); ++i) EXPECT_EQ(a.step_latency_s[i], b.step_latency_s[i]);
  EXPECT_EQ(a.events, b.events);
  e.seed = 43;  // another seed draws other per-head amounts
  EXPECT_NE(simulate(e).step_latency_s, a.step_latency_s);
}

TEST(Strategies, SequencesLeaveTheBatchWhenTheirDecodeEnds) {
  Experiment e = test::simple_experiment("hgca", 1, 4096, 1);
  e.workload.requests = {{4096, 2}, {4096, 6}};
  const RunResult r = simulate(e);
  ASSERT_EQ(r.step_latency_s.size(), 6u);
  EXPECT_EQ(r.batch, 2);
  EXPECT_GT(r.step_latency_s[0], r.step_latency_s[5]);  // two sequences, then one
  EXPECT_NEAR(r.tokens_per_s, 8.0 / r.decode_s, 1e-9);
}

TEST(Strategies, PrefillIsSimulatedInChunksAndOffloadsAsItGoes) {
  Experiment e = test::simple_experiment("hgca", 4, 16384, 2);
  e.workload.simulate_prefill = true;
  e.workload.prefill_chunk = 4096;
  const RunResult r = simulate(e);
  EXPECT_GT(r.prefill_s, 0);
  EXPECT_GT(r.busy.d2h, 0);
  e.workload.prefill_chunk = 0;
  EXPECT_GT(simulate(e).prefill_s, 0);
}

TEST(Strategies, KeyScanSelectionCostsMoreCpuThanBlockSummaries) {
  Experiment e = test::simple_experiment("hgca", 8, 65536, 2);
  e.system.selection_method = SelectionMethod::KeyScan;
  const RunResult scan = simulate(e);
  e.system.selection_method = SelectionMethod::BlockSummary;
  const RunResult blocks = simulate(e);
  e.system.selection_method = SelectionMethod::ReuseLast;
  e.system.reselect_interval = 1000;  // step 0 scans, step 1 reuses
  const RunResult reuse = simulate(e);
  EXPECT_GT(scan.busy.cpu_core_seconds, 2 * blocks.busy.cpu_core_seconds);
  EXPECT_GT(reuse.step_latency_s[0], 2 * reuse.step_latency_s[1]);
}

TEST(Strategies, ReusedTaskListsGiveTheSameStepsAsRebuiltOnes) {
  // key-scan reuses a layer's task list while no batch leaves the window; reuse-last with interval 1 scans
  // every step too but always rebuilds the list. Both must simulate the very same steps, evictions included.
  Experiment e = test::simple_experiment("hgca", 4, 8000, 150);
  e.system.selection.source = SelectionSource::Distribution;
  e.system.selection_method = SelectionMethod::KeyScan;
  const RunResult cached = simulate(e);
  e.system.selection_method = SelectionMethod::ReuseLast;
  e.system.reselect_interval = 1;
  const RunResult rebuilt = simulate(e);
  EXPECT_EQ(cached.step_latency_s, rebuilt.step_latency_s);
}

TEST(Strategies, TimelineRecordsEveryResource) {
  Experiment e = test::simple_experiment("hgca", 4, 16384, 4);
  SimulateOptions o;
  o.timeline_steps = 1;
  const RunResult r = simulate(e, o);
  bool gpu = false, cpu = false, h2d = false, d2h = false;
  for (const TimelineSpan& s : r.timeline) {
    gpu |= s.track == "GPU compute";
    cpu |= s.track.rfind("CPU core", 0) == 0;
    h2d |= s.track == "PCIe H2D";
    d2h |= s.track == "PCIe D2H";
    EXPECT_EQ(s.step, 0);
    EXPECT_GE(s.dur_s, 0);
  }
  EXPECT_TRUE(gpu && cpu && h2d && d2h);
}

}  // namespace
}  // namespace hgca
