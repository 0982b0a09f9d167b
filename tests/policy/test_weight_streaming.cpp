// Weight placement (system.weights_on_gpu): the CPU-resident share of each layer's weights crosses PCIe
// before the layer runs. The step time is checked against a layer pipeline computed by hand: with overlap, a
// ring of two buffers (layer i + 1 fetched while layer i computes, once layer i - 1 freed its buffer); without,
// each fetch waits for the previous layer and the layer waits for its fetch.
#include <gtest/gtest.h>

#include <algorithm>

#include "sim/engine/simulator.hpp"
#include "sim/hw/gpu_cost.hpp"
#include "sim/hw/machine.hpp"
#include "sim/model/model_costs.hpp"
#include "sim/policy/strategy.hpp"
#include "sim/runner/simulate.hpp"
#include "tests/support/decode_step.hpp"
#include "tests/support/fixtures.hpp"

namespace hgca {
namespace {

using test::kernel;
using test::simulate_step;

// gpu-full, 3 layers of the tiny model, batch 2, context 1001: every layer computes the same kernels.
double hand_pipeline(const Experiment& e, bool overlap) {
  const HardwareProfile& hw = e.hardware;
  const ModelCosts c(e.model);
  const double b = 2, f_share = 1 - e.system.weights_on_gpu;
  Cost attn = c.attention(1, 1001);
  attn.flops *= b;
  attn.bytes *= b;
  const double layer = kernel(hw, KernelKind::Elementwise, c.norm(b)) + kernel(hw, KernelKind::Gemm, c.qkv(b)) +
                       kernel(hw, KernelKind::Elementwise, c.rope_append(b)) + kernel(hw, KernelKind::Attention, attn) +
                       kernel(hw, KernelKind::Gemm, c.o_proj(b)) + kernel(hw, KernelKind::Elementwise, c.norm(b)) +
                       kernel(hw, KernelKind::Gemm, c.mlp_up(b)) + kernel(hw, KernelKind::Gemm, c.mlp_down(b));
  const double head = kernel(hw, KernelKind::Elementwise, c.norm(b)) + kernel(hw, KernelKind::Gemm, c.lm_head(b));
  const auto fetch = [&](double bytes) { return hw.pcie.h2d.latency_s + f_share * bytes / hw.pcie.h2d.bandwidth; };
  const int L = 3;
  std::vector<double> fetch_end(L + 1), end(L + 1);
  double link = 0, gpu = 0;
  for (int i = 0; i <= L; ++i) {
    const double f = fetch(i < L ? c.layer_weight_bytes() : c.lm_head_bytes());
    // Overlap: fetch i needs the buffer of layer i - 2; otherwise it starts once layer i - 1 is done.
    const int frees = i - (overlap ? 2 : 1);
    const double start = std::max(link, frees >= 0 ? end[frees] : 0.0);
    fetch_end[i] = link = start + f;
    const double run = std::max(gpu, fetch_end[i]);
    end[i] = gpu = run + (i < L ? layer : head);
  }
  return end[L];
}

Experiment streaming_experiment(double on_gpu, bool overlap) {
  Experiment e = test::simple_experiment("gpu-full", 2, 1000, 1);
  e.model = test::tiny_model(3);
  e.system.weights_on_gpu = on_gpu;
  e.system.overlap_io = overlap;
  return e;
}

TEST(WeightStreaming, OverlappedPipelineMatchesHandComputation) {
  const Experiment e = streaming_experiment(0.5, true);
  EXPECT_NEAR(simulate_step(e), hand_pipeline(e, true), 1e-12);
}

TEST(WeightStreaming, WithoutOverlapEachLayerWaitsForItsFetch) {
  const Experiment e = streaming_experiment(0.25, false);
  const double serial = hand_pipeline(e, false);
  EXPECT_NEAR(simulate_step(e), serial, 1e-12);
  EXPECT_GT(serial, hand_pipeline(e, true));  // and overlap helps
}

TEST(WeightStreaming, AllWeightsOnTheGpuStreamNothing) {
  Experiment e = streaming_experiment(1.0, true);
  const RunResult r = simulate(e);
  EXPECT_EQ(r.busy.h2d, 0);
  e.system.weights_on_gpu = 0.5;
  const RunResult half = simulate(e);
  const ModelCosts c(e.model);
  EXPECT_GT(half.busy.h2d, 0.5 * (3 * c.layer_weight_bytes() + c.lm_head_bytes()) / e.hardware.pcie.h2d.bandwidth);
}

TEST(WeightStreaming, MemoryPlanSplitsWeightsAndCountsTheBuffers) {
  Experiment e = streaming_experiment(0.25, true);
  const ModelCosts c(e.model);
  const RunResult r = simulate(e);
  const double total = c.total_weight_bytes();
  const double largest = 0.75 * std::max(c.layer_weight_bytes(), c.lm_head_bytes());
  EXPECT_DOUBLE_EQ(r.gpu_memory.weights, 0.25 * total + 2 * largest);
  EXPECT_DOUBLE_EQ(r.cpu_memory.weights, 0.75 * total);
  e.system.overlap_io = false;  // one buffer
  EXPECT_DOUBLE_EQ(simulate(e).gpu_memory.weights, 0.25 * total + largest);
}

}  // namespace
}  // namespace hgca
