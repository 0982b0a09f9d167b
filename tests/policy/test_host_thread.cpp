// The host thread as part of the machine: a launch-bound step computed by hand, framework overheads per
// operation and per step, and the paper preset's synchronisations.
#include <gtest/gtest.h>

#include "sim/hw/gpu_cost.hpp"
#include "sim/model/model_costs.hpp"
#include "sim/runner/simulate.hpp"
#include "tests/support/fixtures.hpp"

namespace hgca {
namespace {

TEST(HostThread, LaunchBoundStepIsTheSumOfLaunchesAndFrameworkOverheads) {
  // gpu-full, one layer, batch 1: 8 layer kernels + final norm + LM head = 10 launches of 10 us + 5 us of
  // framework each, after 100 us of per-step framework work. Every kernel is shorter than 15 us (HBM 10 TB/s),
  // so the GPU waits for each launch and the step ends when the last kernel, the LM head, does.
  Experiment e = test::simple_experiment("gpu-full", 1, 100, 3);
  e.hardware.gpu.hbm_bandwidth = 10e12;
  e.hardware.gpu.kernel_launch_s = 10e-6;
  e.hardware.host.framework_op_s = 5e-6;
  e.hardware.host.framework_step_s = 100e-6;
  const ModelCosts c(e.model);
  const Cost head = c.lm_head(1);
  const double lm_head = gpu_kernel_seconds(e.hardware.gpu, KernelKind::Gemm, head.flops, head.bytes);
  ASSERT_LT(lm_head, 15e-6);
  const RunResult r = simulate(e);
  EXPECT_NEAR(r.step_p50_s, 100e-6 + 10 * 15e-6 + lm_head, 1e-12);
  EXPECT_NEAR(r.busy.host, 3 * (100e-6 + 10 * 15e-6), 1e-12);
  EXPECT_LT(r.gpu_share(), 0.2);  // the GPU mostly idles
}

TEST(HostThread, CopiesAndCpuBatchesAreIssuedByTheHost) {
  // hgca issues per layer 4 copies/batches besides its 10 kernels' worth of launches: framework time per
  // operation shows up in host busy time even with free launches.
  Experiment e = test::simple_experiment("hgca", 1, 2000, 1);
  e.hardware.host.framework_op_s = 1e-6;
  const RunResult r = simulate(e);
  // Launches: input-norm, qkv, rope, window-attn, merge, o-proj, post-norm, mlp-up, mlp-down, final-norm,
  // lm-head = 11; issues: queries D2H, CPU batch, partials H2D = 3 (no eviction this step).
  EXPECT_NEAR(r.busy.host, 14e-6, 1e-12);
}

TEST(HostThread, PaperPresetWaitsForCpuTasksAndSynchronisesEveryLayer) {
  // With the host waiting for the CPU tasks before launching the merge (and syncing after it), a launch
  // cost lands on the critical path after every CPU batch: the step grows by more than the pure launch sum.
  Experiment e = test::simple_experiment("hgca", 2, 3000, 2);
  e.model = test::tiny_model(4);
  e.system.preset = HgcaPreset::Paper;
  e.system.paper.gpu_blocks = 8;
  e.system.paper.recall_blocks = 0;
  e.system.paper.framework_copies = false;
  e.system.paper.recall_reload = false;
  SimulateOptions o;
  o.timeline_steps = 1;
  const RunResult r = simulate(e, o);
  int waits = 0, syncs = 0;
  for (const TimelineSpan& s : r.timeline) {
    waits += s.track == "host thread" && s.name.find("wait CPU tasks") != std::string::npos;
    syncs += s.track == "host thread" && s.name.find("cuda sync") != std::string::npos;
  }
  EXPECT_EQ(waits, 4);
  EXPECT_EQ(syncs, 4);
}

}  // namespace
}  // namespace hgca
