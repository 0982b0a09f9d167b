#include <gtest/gtest.h>

#include "sim/hw/machine.hpp"
#include "tests/support/fixtures.hpp"

namespace hgca {
namespace {

SimTime ps(double seconds) { return duration_from_seconds(seconds); }

struct Rig {
  HardwareProfile hw = test::simple_hardware();
  Simulator sim;
  StepGraph g;
  SimTime run() {
    Machine m(sim, hw, 1, CpuSchedule::Dynamic);
    return m.execute(g);
  }
};

TEST(PcieLink, LoneTransferTakesLatencyPlusSizeOverBandwidth) {
  for (Unit dir : {Unit::H2D, Unit::D2H}) {
    Rig r;
    const OpId c = r.g.copy(dir, 0, "x", 0, 1e6);  // 1 MB at 50 GB/s = 20 us, + 5 us latency
    EXPECT_EQ(r.run(), ps(5e-6) + ps(20e-6));
    EXPECT_EQ(r.g.ops()[c].end - r.g.ops()[c].start, ps(25e-6));
  }
}

TEST(PcieLink, ZeroByteTransferCostsTheLatency) {
  Rig r;
  r.g.copy(Unit::H2D, 0, "x", 0, 0);
  EXPECT_EQ(r.run(), ps(5e-6));
}

TEST(PcieLink, BothDirectionsOverlapOnAFullDuplexLink) {
  Rig r;
  r.g.copy(Unit::H2D, 0, "up", 0, 1e6);
  r.g.copy(Unit::D2H, 0, "down", 0, 1e6);
  EXPECT_EQ(r.run(), ps(25e-6));  // as long as one alone
}

TEST(PcieLink, DuplexCapSlowsBothDirectionsTogether) {
  Rig r;
  r.hw.pcie.duplex_bandwidth = 75e9;  // both at once: 37.5 GB/s each
  r.g.copy(Unit::H2D, 0, "up", 0, 1.5e6);
  r.g.copy(Unit::D2H, 0, "down", 0, 1.5e6);
  EXPECT_NEAR(to_seconds(r.run()), 5e-6 + 1.5e6 / 37.5e9, 2e-12);
}

TEST(PcieLink, OneCopyEngineSerialisesTransfersOfADirection) {
  Rig r;
  const OpId a = r.g.copy(Unit::H2D, 0, "a", 0, 1e6);
  const OpId b = r.g.copy(Unit::H2D, 1, "b", 0, 1e6);  // another stream: only the engine serialises them
  EXPECT_EQ(r.run(), 2 * ps(25e-6));
  EXPECT_EQ(r.g.ops()[b].start, r.g.ops()[a].end);
}

TEST(PcieLink, ConcurrentTransfersShareTheDirectionsBandwidth) {
  Rig r;
  r.hw.pcie.copy_engines_per_direction = 2;
  r.g.copy(Unit::H2D, 0, "a", 0, 1e6);
  r.g.copy(Unit::H2D, 1, "b", 0, 3e6);
  // Both move data at 25 GB/s until a's 1 MB is done (40 us), then b alone at 50 GB/s for its last 2 MB.
  EXPECT_NEAR(to_seconds(r.run()), 5e-6 + 40e-6 + 40e-6, 2e-12);
}

TEST(PcieLink, PageableTransfersAreCapped) {
  Rig r;
  r.g.copy(Unit::H2D, 0, "x", 0, 1e6, {}, /*pageable=*/true);
  EXPECT_NEAR(to_seconds(r.run()), 5e-6 + 1e6 / 10e9, 2e-12);
}

}  // namespace
}  // namespace hgca
