// A decode step of the hgca strategy against a hand computation: the layer's attention takes
// max(GPU window path, queries over PCIe + CPU sparse attention + partials back) and then the merge.
#include <gtest/gtest.h>

#include <algorithm>

#include "sim/engine/simulator.hpp"
#include "sim/hw/gpu_cost.hpp"
#include "sim/hw/machine.hpp"
#include "sim/model/model_costs.hpp"
#include "sim/policy/strategy.hpp"
#include "tests/support/decode_step.hpp"
#include "tests/support/fixtures.hpp"

namespace hgca {
namespace {

using test::kernel;
using test::simulate_step;

// Expected step time, written out from the design: 4 sequences, 8 query heads, 2 KV heads, head dim 128,
// 16-bit KV; context 1669 = 1029 on the GPU + 640 on the CPU (window 1024, eviction batch 64).
double hand_step(const Experiment& e) {
  const HardwareProfile& hw = e.hardware;
  const ModelCosts c(e.model);
  const double b = 4, gpu_tokens = 1029, cpu_tokens = 640;
  const double pre = kernel(hw, KernelKind::Elementwise, c.norm(b)) + kernel(hw, KernelKind::Gemm, c.qkv(b)) +
                     kernel(hw, KernelKind::Elementwise, c.rope_append(b));
  Cost win = c.attention(1, gpu_tokens);
  win.flops *= b;
  win.bytes *= b;
  const double gpu_path = kernel(hw, KernelKind::Attention, win);
  // One CPU task per (sequence, query head): scan 640 keys of 256 B, gather ceil(5% of 640) = 32 rows of K+V.
  const double task_bytes = cpu_tokens * 128 * 2 + 32 * 2 * 128 * 2;
  const double tasks = b * 8, cores = hw.cpu.cores;
  const double per_core_bw = hw.cpu.bandwidth_by_threads.back().second / hw.cpu.bandwidth_by_threads.back().first;
  const double cpu = std::ceil(tasks / cores) * task_bytes / per_core_bw;
  const double q_down = hw.pcie.d2h.latency_s + b * 8 * 128 * 4 / hw.pcie.d2h.bandwidth;  // fp32 queries
  const double p_up = hw.pcie.h2d.latency_s + b * 8 * 129 * 4 / hw.pcie.h2d.bandwidth;
  const double merge = kernel(hw, KernelKind::Merge, c.merge(b));
  const double post = kernel(hw, KernelKind::Gemm, c.o_proj(b)) + kernel(hw, KernelKind::Elementwise, c.norm(b)) +
                      kernel(hw, KernelKind::Gemm, c.mlp_up(b)) + kernel(hw, KernelKind::Gemm, c.mlp_down(b)) +
                      kernel(hw, KernelKind::Elementwise, c.norm(b)) + kernel(hw, KernelKind::Gemm, c.lm_head(b));
  return pre + std::max(gpu_path, q_down + cpu + p_up) + merge + post;
}

Experiment step_experiment() {
  Experiment e = test::simple_experiment("hgca", 4, 1668, 1);
  e.hardware.cpu.bandwidth_by_threads = {{1, 10e9}, {8, 80e9}};  // linear: no contention to model by hand
  e.system.selection_method = SelectionMethod::KeyScan;  // the hand computation below charges a full key scan
  return e;
}

TEST(HgcaStep, CpuPathBoundStepMatchesHandComputation) {
  const Experiment e = step_experiment();
  const double expected = hand_step(e);
  EXPECT_NEAR(simulate_step(e), expected, 1e-9);
  // and the CPU path really is the longer one here
  EXPECT_GT(expected, 50e-6);
}

TEST(HgcaStep, GpuPathBoundStepMatchesHandComputation) {
  Experiment e = step_experiment();
  e.hardware.gpu.hbm_bandwidth = 2e9;  // a very slow GPU: the window attention dominates
  e.hardware.cpu.bandwidth_by_threads = {{1, 1e12}, {8, 8e12}};
  const double expected = hand_step(e);
  EXPECT_NEAR(simulate_step(e), expected, 1e-9);
}

TEST(HgcaStep, WithoutCpuResidentEntriesOnlyTheWindowRuns) {
  Experiment e = step_experiment();
  e.workload.prompt = 500;  // shorter than the window
  const StepGraph g = test::decode_step_graph(e);
  for (const Op& op : g.ops()) {
    EXPECT_NE(op.unit, Unit::Cpu);
    EXPECT_NE(op.unit, Unit::H2D);
  }
}

}  // namespace
}  // namespace hgca
