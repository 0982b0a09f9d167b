// The host thread sharing a core with the attention workers, and NUMA bandwidth domains, by hand.
#include <gtest/gtest.h>

#include "sim/hw/machine.hpp"
#include "tests/support/fixtures.hpp"

namespace hgca {
namespace {

// A 25 us copy (5 us + 1 MB at 50 GB/s), a 100 us CPU task (1 MB at 10 GB/s) and a host synchronisation on
// the copy, followed by a 10 us launch of a 1 us kernel.
SimTime run_sync_case(bool shares) {
  HardwareProfile hw = test::simple_hardware();
  hw.cpu.cores = 1;
  hw.cpu.bandwidth_by_threads = {{1, 10e9}};
  hw.gpu.kernel_launch_s = 10e-6;
  hw.host.shares_cpu_core = shares;
  Simulator sim;
  Machine m(sim, hw, 1, CpuSchedule::Dynamic);
  EXPECT_EQ(m.host_shares_worker_core(), shares);
  StepGraph g;
  const OpId copy = g.copy(Unit::H2D, 0, "copy", 0, 1e6);
  g.cpu_batch(0, "task", 0);
  g.cpu_task(CpuTask{1e6, 0, 0});
  g.host("sync", 0, 0, {copy});
  g.kernel(0, KernelKind::Gemm, "k", 0, 0, 1e6);
  return m.execute(g);
}

TEST(HostCore, LaunchesSlipBehindAttentionTasksOnTheSharedCore) {
  // Own core: the sync at 25 us, the launch until 35 us, the kernel until 36 us; the task ends at 100 us.
  EXPECT_EQ(run_sync_case(false), duration_from_seconds(100e-6));
  // Shared: the host gives the core up while it waits, the task takes it (0..100 us); the sync is ready at
  // 25 us but runs only when the task ends, then the launch (100..110 us) and the kernel (110..111 us).
  EXPECT_EQ(run_sync_case(true), duration_from_seconds(111e-6));
}

TEST(Numa, EachSocketIsItsOwnBandwidthDomain) {
  // Two workers, each task reads 1 MB. One domain saturating at 10 GB/s: both share it, 200 us. Two sockets
  // of 10 GB/s each (static schedule: task i on worker i, worker i on socket i): 100 us.
  HardwareProfile hw = test::simple_hardware();
  hw.cpu.cores = 2;
  hw.cpu.bandwidth_by_threads = {{1, 10e9}, {2, 10e9}};
  auto run = [&](const HardwareProfile& h) {
    Simulator sim;
    Machine m(sim, h, 2, CpuSchedule::Static);
    StepGraph g;
    g.cpu_batch(0, "tasks", 0);
    g.cpu_task(CpuTask{1e6, 0, 0});
    g.cpu_task(CpuTask{1e6, 0, 0});
    return m.execute(g);
  };
  EXPECT_EQ(run(hw), duration_from_seconds(200e-6));
  hw.cpu.sockets = 2;
  hw.cpu.socket_bandwidth_by_threads = {{1, 10e9}};
  EXPECT_EQ(run(hw), duration_from_seconds(100e-6));
}

}  // namespace
}  // namespace hgca
