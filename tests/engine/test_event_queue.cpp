#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "sim/engine/simulator.hpp"

namespace hgca {
namespace {

struct Recorder : EventTarget {
  Simulator* sim = nullptr;
  std::vector<std::pair<SimTime, uint64_t>> seen;
  void on_event(uint64_t payload) override { seen.emplace_back(sim->now(), payload); }
};

TEST(EventQueue, PopsInTimeOrderAndFirstScheduledFirstAtEqualTimes) {
  Simulator sim;
  Recorder r;
  r.sim = &sim;
  std::mt19937_64 rng(7);
  std::vector<std::pair<SimTime, uint64_t>> expected;
  for (uint64_t i = 0; i < 5000; ++i) {
    const SimTime t = static_cast<SimTime>(rng() % 50);  // many ties on purpose
    sim.schedule_at(t, &r, i);
    expected.emplace_back(t, i);
  }
  // Reference order: by time, then by scheduling order (a stable sort keeps insertion order on ties).
  std::stable_sort(expected.begin(), expected.end(), [](auto& a, auto& b) { return a.first < b.first; });
  sim.run();
  ASSERT_EQ(r.seen, expected);
  EXPECT_EQ(sim.events_processed(), 5000u);
  EXPECT_EQ(sim.pending(), 0u);
}

TEST(EventQueue, RefusesToScheduleInThePast) {
  Simulator sim;
  Recorder r;
  r.sim = &sim;
  sim.schedule_at(100, &r, 0);
  sim.run();
  EXPECT_EQ(sim.now(), 100);
  EXPECT_THROW(sim.schedule_at(99, &r, 1), std::logic_error);
  EXPECT_NO_THROW(sim.schedule_at(100, &r, 2));
}

// A chain of events that each schedule the next: the queue must stay as small as what is in flight.
struct Chain : EventTarget {
  Simulator* sim = nullptr;
  uint64_t left = 0;
  size_t max_pending = 0;
  void on_event(uint64_t payload) override {
    max_pending = std::max(max_pending, sim->pending());
    if (payload != 0 || left == 0) return;
    --left;
    sim->schedule_in(3, this, 0);  // the chain goes on
    sim->schedule_in(5, this, 1);  // a side event that stays pending across the next one
  }
};

TEST(Simulator, MemoryGrowsWithEventsInFlightNotEventsSimulated) {
  Simulator sim;
  Chain c;
  c.sim = &sim;
  c.left = 200000;
  sim.schedule_at(0, &c, 0);
  sim.run();
  EXPECT_GT(sim.events_processed(), 200000u);
  EXPECT_LE(c.max_pending, 8u);
  EXPECT_LE(sim.queue_capacity(), 64u);
}

TEST(Simulator, RunUntilStopsAtTheGivenTime) {
  Simulator sim;
  Recorder r;
  r.sim = &sim;
  sim.schedule_at(10, &r, 0);
  sim.schedule_at(20, &r, 1);
  sim.schedule_at(30, &r, 2);
  sim.run_until(20);
  EXPECT_EQ(r.seen.size(), 2u);
  EXPECT_EQ(sim.now(), 20);
  sim.run();
  EXPECT_EQ(r.seen.size(), 3u);
}

TEST(Time, DurationsRoundUpToWholePicoseconds) {
  EXPECT_EQ(duration_from_seconds(1e-6), 1000000);
  EXPECT_EQ(duration_from_seconds(0), 0);
  EXPECT_EQ(duration_from_seconds(-1), 0);
  EXPECT_EQ(duration_from_seconds(1.5e-12), 2);
  EXPECT_DOUBLE_EQ(to_seconds(2500000), 2.5e-6);
}

}  // namespace
}  // namespace hgca
