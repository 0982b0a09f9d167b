#include <gtest/gtest.h>

#include <cmath>

#include "sim/hw/gpu_cost.hpp"
#include "sim/hw/machine.hpp"
#include "tests/support/fixtures.hpp"

namespace hgca {
namespace {

TEST(GpuCost, RooflineTakesTheSlowerOfComputeAndMemory) {
  GpuSpec g = test::simple_hardware().gpu;
  g.hbm_efficiency = 0.5;
  g.matmul_efficiency = 0.5;
  // 1 GB at 0.5 TB/s = 2 ms; 1e11 FLOP at 50 TFLOP/s = 2 ms: equal; then each dominates in turn.
  EXPECT_NEAR(gpu_kernel_seconds(g, KernelKind::Gemm, 1e11, 1e9), 2e-3, 1e-15);
  EXPECT_NEAR(gpu_kernel_seconds(g, KernelKind::Gemm, 4e11, 1e9), 8e-3, 1e-15);
  EXPECT_NEAR(gpu_kernel_seconds(g, KernelKind::Merge, 1e9, 1e6), 1e9 / 10e12, 1e-15);  // vector peak
  g.kernel_min_s = 5e-6;
  EXPECT_NEAR(gpu_kernel_seconds(g, KernelKind::Elementwise, 1, 1), 5e-6, 1e-15);
}

TEST(Machine, StreamsAreInOrderAndKernelsWaitForTheirLaunch) {
  HardwareProfile hw = test::simple_hardware();
  hw.gpu.kernel_launch_s = 10e-6;
  Simulator sim;
  Machine m(sim, hw, 1, CpuSchedule::Dynamic);
  StepGraph g;
  // Two 1 us kernels: launches are serial on the host thread (10 us each), kernels follow their launches.
  const OpId k1 = g.kernel(0, KernelKind::Gemm, "k1", 0, 0, 1e6);
  const OpId k2 = g.kernel(0, KernelKind::Gemm, "k2", 0, 0, 1e6);
  EXPECT_EQ(m.execute(g), duration_from_seconds(21e-6));
  EXPECT_EQ(g.ops()[k1].start, duration_from_seconds(10e-6));
  EXPECT_EQ(g.ops()[k2].start, duration_from_seconds(20e-6));
  EXPECT_NEAR(m.host_busy(), 20e-6, 1e-15);
  EXPECT_NEAR(m.gpu_busy(), 2e-6, 1e-15);
}

TEST(Machine, CrossStreamDependencyActsLikeAnEvent) {
  HardwareProfile hw = test::simple_hardware();
  Simulator sim;
  Machine m(sim, hw, 1, CpuSchedule::Dynamic);
  StepGraph g;
  const OpId up = g.copy(Unit::H2D, 0, "up", 0, 1e6);                            // 25 us
  const OpId k = g.kernel(0, KernelKind::Gemm, "k", 0, 0, 1e6, {up});            // 1 us after the copy
  const OpId other = g.kernel(1, KernelKind::Gemm, "other", 0, 0, 1e6);          // free to run at once
  m.execute(g);
  EXPECT_EQ(g.ops()[k].start, g.ops()[up].end);
  EXPECT_EQ(g.ops()[other].start, 0);
}

// host.after_cpu: the host's return from waiting for a CPU batch of length t costs max (1 - exp(-t / T)),
// computed from the batch's simulated length (framework_op charges the batch's issue, so it starts at 1 us).
TEST(Machine, ReturnFromACpuPhaseCostsItsSaturatingTerm) {
  for (const double mb : {1.0, 10.0, 100.0}) {
    HardwareProfile hw = test::simple_hardware();
    hw.host.framework_op_s = 1e-6;
    hw.host.after_cpu_max_s = 40e-6;
    hw.host.after_cpu_time_s = 2e-3;
    Simulator sim;
    Machine m(sim, hw, 1, CpuSchedule::Dynamic);
    StepGraph g;
    const OpId cpu = g.cpu_batch(0, "cpu", 0);
    g.cpu_task(CpuTask{mb * 1e6, 0, 0});  // one thread at 10 GB/s: 0.1, 1 or 10 ms
    const OpId wait = g.host_after_cpu("wait", 0, 3e-6, cpu);
    const SimTime total = m.execute(g);
    const double t = to_seconds(g.ops()[cpu].end - g.ops()[cpu].start);
    EXPECT_NEAR(t, mb * 1e6 / 10e9, 1e-9);
    const double expected = 3e-6 + 40e-6 * (1 - std::exp(-t / 2e-3));
    EXPECT_NEAR(to_seconds(g.ops()[wait].end - g.ops()[wait].start), expected, 1e-9) << mb;
    EXPECT_NEAR(to_seconds(total), 1e-6 + t + expected, 1e-9);
  }
  // With after_cpu_max 0 (the default) the wait costs only its fixed part.
  HardwareProfile hw = test::simple_hardware();
  Simulator sim;
  Machine m(sim, hw, 1, CpuSchedule::Dynamic);
  StepGraph g;
  const OpId cpu = g.cpu_batch(0, "cpu", 0);
  g.cpu_task(CpuTask{1e7, 0, 0});
  const OpId wait = g.host_after_cpu("wait", 0, 3e-6, cpu);
  m.execute(g);
  EXPECT_NEAR(to_seconds(g.ops()[wait].end - g.ops()[wait].start), 3e-6, 1e-12);
  EXPECT_THROW(g.host_after_cpu("not a batch", 0, 0, wait), std::logic_error);
}

// A step run back to back with copies of itself comes back after its own length: steady_reuse_period is the
// period whose step lasts that period, checked on a fresh machine run at it.
TEST(Machine, SteadyReusePeriodIsTheFixedPointOfPeriodAndMakespan) {
  HardwareProfile hw = test::simple_hardware();
  hw.cpu.llc_bytes = 100e6;
  auto graph = [](double touched) {
    StepGraph g;
    g.host("setup", 0, 20e-6);
    g.cpu_batch(0, "cpu", 0);
    for (int i = 0; i < 4; ++i) {
      CpuTask t{2e6, 1e6, 0, 100};
      t.llc = LlcReads::drawn(60e6, touched);  // fits the cache; other traffic evicts it between reads
      g.cpu_task(t);
    }
    return g;
  };
  auto makespan = [&](const StepGraph& graph_, double period) {
    Simulator sim;
    Machine m(sim, hw, 4, CpuSchedule::Dynamic);
    m.set_reuse_period(period);
    StepGraph g = graph_;
    return to_seconds(m.execute(g));
  };
  struct Case {
    double residency, touched, factor;
  };
  for (const Case& k : {Case{0.2e-3, 0.05, 8}, Case{1e-3, 0.05, 8}, Case{0.2e-3, 0.3, 8}, Case{2e-3, 0.02, 3}}) {
    hw.cpu.llc_residency_s = k.residency;
    hw.cpu.llc_bandwidth_factor = k.factor;
    const StepGraph g = graph(k.touched);
    const double p = steady_reuse_period(hw, 4, CpuSchedule::Dynamic, g);
    EXPECT_NEAR(makespan(g, p), p, 1e-6 * p) << k.residency << " " << k.touched;
    EXPECT_GT(p, makespan(g, 0) * 1.05) << "the cache term must matter for this test to check anything";
  }
  hw.cpu.llc_residency_s = 0;  // the period does not matter: none
  EXPECT_EQ(steady_reuse_period(hw, 4, CpuSchedule::Dynamic, graph(0.1)), 0);
}

TEST(Machine, RefusesADependencyOnItselfOrALaterOp) {
  HardwareProfile hw = test::simple_hardware();
  Simulator sim;
  Machine m(sim, hw, 1, CpuSchedule::Dynamic);
  StepGraph g;
  const OpId a = g.copy(Unit::H2D, 0, "a", 0, 1);
  const OpId b = g.copy(Unit::D2H, 0, "b", 0, 1);
  EXPECT_THROW(g.depend(a, a), std::logic_error);
  EXPECT_THROW(g.depend(a, b), std::logic_error);
  EXPECT_NO_THROW(g.depend(b, a));
  EXPECT_GT(to_seconds(m.execute(g)), 0.0);
}

}  // namespace
}  // namespace hgca
