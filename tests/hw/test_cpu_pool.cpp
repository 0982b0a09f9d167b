#include <gtest/gtest.h>

#include <vector>

#include "sim/hw/llc_residency.hpp"
#include "sim/hw/machine.hpp"
#include "tests/support/fixtures.hpp"

namespace hgca {
namespace {

struct Rig {
  HardwareProfile hw = test::simple_hardware();
  Simulator sim;
  StepGraph g;
  double imbalance = 0;
  double run(int threads, CpuSchedule sched = CpuSchedule::Dynamic) {
    Machine m(sim, hw, threads, sched);
    const double t = to_seconds(m.execute(g));
    imbalance = m.cpu_imbalance();
    return t;
  }
  void batch(const std::vector<double>& bytes) {
    g.cpu_batch(0, "batch", 0);
    for (double b : bytes) g.cpu_task(CpuTask{b, 0, 0});
  }
  void tasks(const std::vector<CpuTask>& ts) {
    g.cpu_batch(0, "batch", 0);
    for (const CpuTask& t : ts) g.cpu_task(t);
  }
  // A last-level cache of 300 MB, `factor` times cheaper than DRAM, and no other traffic: a task marked with
  // hit(t, h) then finds the share h of its reads there (the knee, llc_bytes / working set).
  void cache(double factor) {
    hw.cpu.llc_bytes = 300e6;
    hw.cpu.llc_bandwidth_factor = factor;
  }
};

CpuTask hit(CpuTask t, double share) {
  t.llc = LlcReads::drawn(300e6 / share, 1);
  return t;
}

TEST(CpuBandwidth, InterpolatesAndSaturates) {
  CpuSpec s;
  s.bandwidth_by_threads = {{1, 12.3e9}, {2, 25.1e9}, {4, 42.6e9}, {8, 80.1e9}, {16, 104.2e9}};
  EXPECT_DOUBLE_EQ(cpu_bandwidth(s, 1), 12.3e9);
  EXPECT_DOUBLE_EQ(cpu_bandwidth(s, 3), (25.1e9 + 42.6e9) / 2);
  EXPECT_DOUBLE_EQ(cpu_bandwidth(s, 12), (80.1e9 + 104.2e9) / 2);
  EXPECT_DOUBLE_EQ(cpu_bandwidth(s, 64), 104.2e9);  // flat past the last point
}

TEST(CpuPool, OneTaskReadsAtOneCoresBandwidth) {
  Rig r;
  r.batch({1e9});
  EXPECT_NEAR(r.run(4), 0.1, 1e-11);  // 1 GB at 10 GB/s
}

TEST(CpuPool, CoresShareSaturatingBandwidth) {
  Rig r;
  r.hw.cpu.bandwidth_by_threads = {{1, 10e9}, {2, 16e9}};
  // A (1 GB) and B (2 GB) read together at 8 GB/s each; A ends at 0.125 s, then B's last GB at 10 GB/s.
  r.batch({1e9, 2e9});
  EXPECT_NEAR(r.run(2), 0.125 + 0.1, 1e-11);
}

TEST(CpuPool, FourCoresOnASaturatedBusTakeFourTimesAsLongPerTask) {
  Rig r;
  r.hw.cpu.bandwidth_by_threads = {{1, 10e9}, {2, 10e9}};  // one core already saturates DRAM
  r.batch({1e9, 1e9, 1e9, 1e9});
  EXPECT_NEAR(r.run(4), 0.4, 1e-11);
}

TEST(CpuPool, CacheResidentReadRunsLlcFactorTimesFaster) {
  Rig r;
  r.cache(4);
  r.hw.cpu.gather_efficiency = 0.5;
  r.tasks({hit(CpuTask{1e9, 0.5e9, 0}, 1)});
  // (1 GB + 0.5 GB / 0.5) / 4 = 0.5 GB of DRAM-equivalent reads at 10 GB/s.
  EXPECT_NEAR(r.run(4), 0.05, 1e-11);
}

TEST(CpuPool, CacheResidentReaderHoldsItsShareForLessTime) {
  Rig r;
  r.hw.cpu.bandwidth_by_threads = {{1, 10e9}, {2, 16e9}};
  r.cache(4);
  r.tasks({hit(CpuTask{2e9, 0, 0}, 1), CpuTask{1e9, 0, 0}});
  // Both read at 8 GB/s of the shared clock: the cached task's 2 GB count 0.5 GB and end at 0.0625 s, then the
  // DRAM task's last 0.5 GB alone at 10 GB/s.
  EXPECT_NEAR(r.run(2), 0.0625 + 0.05, 1e-11);
}

TEST(CpuPool, PartialHitsCostTheirShareOfCacheAndDram) {
  Rig r;
  r.cache(4);
  r.tasks({hit(CpuTask{1e9, 0, 0}, 0.5)});
  // Half the bytes from DRAM (0.5 GB), half from the cache (0.5 GB / 4): 0.625 GB at 10 GB/s.
  EXPECT_NEAR(r.run(4), 0.0625, 1e-11);
}

// cpu.row_cost is the latency side of a gather: a floor from the start of the read, overlapping it.
TEST(CpuPool, RowLatencyBindsAloneAndOverlapsTheSharedBandwidth) {
  Rig one;
  one.hw.cpu.row_cost_s = 1e-6;
  one.hw.cpu.gather_efficiency = 1;
  CpuTask t{0, 1e8, 0, 1e5};  // 100 MB in 1e5 rows: 0.01 s at 10 GB/s, 0.1 s of row latency
  one.tasks({t});
  EXPECT_NEAR(one.run(4), 0.1, 1e-9);
  Rig many;
  many.hw.cpu.bandwidth_by_threads = {{1, 10e9}, {4, 10e9}};  // four readers share 10 GB/s
  many.hw.cpu.row_cost_s = 1e-7;
  many.hw.cpu.gather_efficiency = 1;
  many.tasks(std::vector<CpuTask>(4, CpuTask{0, 1e9, 0, 1e5}));
  // Each reads 1 GB at 2.5 GB/s (0.4 s); 1e5 rows x 0.1 us = 0.01 s hides under it (no sum: 0.41 would be).
  EXPECT_NEAR(many.run(4), 0.4, 1e-9);
  Rig cached;
  cached.hw.cpu.row_cost_s = 1e-6;
  cached.cache(4);
  cached.tasks({hit(CpuTask{0, 1e8, 0, 1e5}, 1)});
  EXPECT_NEAR(cached.run(4), 0.025, 1e-9);  // a hit is a short miss: the row latency / 4 as well
}

// The dispatcher wakes parked workers one after the other: the k-th pays wakeup + k x stagger. Workers that
// are already awake when more work comes pay nothing.
TEST(CpuPool, ParkedWorkersWakeOneAfterAnother) {
  Rig r;
  r.hw.cpu.bandwidth_by_threads = {{1, 1e9}, {4, 4e9}};  // 1 GB/s per core, no contention
  r.hw.cpu.wakeup_s = 10e-6;
  r.hw.cpu.wakeup_stagger_s = 2e-6;
  r.hw.cpu.task_overhead_s = 0;
  r.batch({1e3, 1e3, 1e3});  // 1 us of reading each
  // Three workers woken at 10, 12 and 14 us: the last finishes at 15 us.
  EXPECT_NEAR(r.run(4), 15e-6, 1e-12);
  Rig one;
  one.hw = r.hw;
  one.batch({1e3, 1e3, 1e3});
  // One worker: woken once (10 us), then its three tasks back to back.
  EXPECT_NEAR(one.run(1), 13e-6, 1e-12);
}

TEST(CpuPool, NoCacheModelIgnoresTheResidentMark) {
  Rig r;
  r.hw.cpu.llc_bytes = 0;
  r.hw.cpu.llc_bandwidth_factor = 4;
  r.tasks({hit(CpuTask{1e9, 0, 0}, 1)});
  EXPECT_NEAR(r.run(4), 0.1, 1e-11);
}

// With other traffic, what a task finds in the cache depends on the reuse period the pool is given (Machine
// sets it to the previous step's makespan): llc_hit_share of the task's working set and touched share.
TEST(CpuPool, OtherTrafficMakesTheHitShareDependOnTheReusePeriod) {
  for (const double period : {0.0, 20e-3, 200e-3}) {
    Rig r;
    r.cache(4);
    r.hw.cpu.llc_residency_s = 30e-3;  // other traffic: 10 GB/s
    CpuTask t{1e9, 0, 0};
    t.llc = LlcReads::drawn(100e6, 0.1);  // a third of the cache, a tenth of it read per step
    r.tasks({t});
    Machine m(r.sim, r.hw, 4, CpuSchedule::Dynamic);
    m.set_reuse_period(period);
    const double h = llc_hit_share(300e6, 30e-3, t.llc, period);
    if (period == 0) {
      EXPECT_DOUBLE_EQ(h, 1.0);  // unknown: the knee
    } else if (period == 200e-3) {
      EXPECT_LT(h, 0.5);
    }
    EXPECT_NEAR(to_seconds(m.execute(r.g)), 0.1 * (1 - h + h / 4), 1e-9) << period;
    EXPECT_NEAR(m.reuse_period(), 0.1 * (1 - h + h / 4), 1e-9);  // the next step's period: this one's makespan
  }
}

TEST(CpuPool, StaticPartitionShowsStragglersDynamicQueueBalances) {
  // Linear bandwidth (no contention): each task takes bytes / 1 GB/s on its core.
  const std::vector<double> sizes = {3e9, 1e9, 1e9, 1e9};
  Rig s;
  s.hw.cpu.bandwidth_by_threads = {{1, 1e9}, {2, 2e9}};
  s.batch(sizes);
  // static: core 0 gets tasks 0 and 2 (4 s), core 1 gets 1 and 3 (2 s).
  EXPECT_NEAR(s.run(2, CpuSchedule::Static), 4.0, 1e-9);
  EXPECT_NEAR(s.imbalance, 4.0 / 3.0, 1e-9);
  Rig d;
  d.hw.cpu.bandwidth_by_threads = {{1, 1e9}, {2, 2e9}};
  d.batch(sizes);
  // dynamic: core 0 takes the 3 s task, core 1 the three 1 s tasks.
  EXPECT_NEAR(d.run(2, CpuSchedule::Dynamic), 3.0, 1e-9);
  EXPECT_NEAR(d.imbalance, 1.0, 1e-9);
}

TEST(CpuPool, WakeUpAndPerTaskOverheadAreCharged) {
  Rig r;
  r.hw.cpu.wakeup_s = 5e-6;
  r.hw.cpu.task_overhead_s = 1e-6;
  r.batch({1e6, 1e6});  // one core: wake once, then two tasks of overhead + 100 us
  EXPECT_NEAR(r.run(1), 5e-6 + 2 * (1e-6 + 100e-6), 1e-11);
}

TEST(CpuPool, ComputeBoundTasksAreLimitedByFlops) {
  Rig r;
  r.hw.cpu.flops_per_core = 1e9;
  r.g.cpu_batch(0, "b", 0);
  r.g.cpu_task(CpuTask{1e6, 0, 1e9});  // reading takes 0.1 ms, computing 1 s
  EXPECT_NEAR(r.run(1), 1.0, 1e-9);
}

TEST(CpuPool, ScatteredReadsRunAtGatherEfficiency) {
  Rig r;
  r.hw.cpu.gather_efficiency = 0.5;
  r.g.cpu_batch(0, "b", 0);
  r.g.cpu_task(CpuTask{1e9, 1e9, 0});  // 1 GB streamed + 1 GB gathered at half speed = 3 GB-equivalents
  EXPECT_NEAR(r.run(1), 0.3, 1e-11);
}

TEST(CpuPool, EmptyBatchCompletesAtOnce) {
  Rig r;
  r.g.cpu_batch(0, "empty", 0);
  EXPECT_EQ(r.run(2), 0.0);
}

}  // namespace
}  // namespace hgca
