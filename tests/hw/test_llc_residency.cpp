// The cache residency rule (sim/hw/llc_residency.hpp) against the knee it reduces to and against an LRU cache
// simulated line by line.
#include "sim/hw/llc_residency.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <list>
#include <random>
#include <unordered_map>
#include <vector>

namespace hgca {
namespace {

TEST(LlcResidency, WithoutOtherTrafficIsTheKnee) {
  for (double ws : {10e6, 50e6, 100e6, 400e6, 4e9})
    for (double touched : {0.01, 0.3, 1.0}) {
      EXPECT_NEAR(llc_hit_share(100e6, 0, ws, touched, 1e-3), std::min(1.0, 100e6 / ws), 1e-9) << ws << " " << touched;
      EXPECT_NEAR(llc_hit_share(100e6, 2e-3, ws, touched, 0), std::min(1.0, 100e6 / ws), 1e-9) << "period unknown";
    }
}

TEST(LlcResidency, NothingWithoutACacheAWorkingSetOrReadsUnderOtherTraffic) {
  EXPECT_EQ(llc_hit_share(0, 2e-3, 1e6, 0.5, 1e-3), 0);
  EXPECT_EQ(llc_hit_share(100e6, 2e-3, 0, 0.5, 1e-3), 0);
  EXPECT_EQ(llc_hit_share(100e6, 2e-3, 1e6, 0, 1e-3), 0);
  // Without other traffic a step that reads none of the set still gets the knee (the old rule exactly).
  EXPECT_DOUBLE_EQ(llc_hit_share(100e6, 0, 400e6, 0, 1e-3), 0.25);
}

// Other traffic evicts the rows a step reads rarely: fewer hits for a smaller touched share and for a longer
// period, even from a pool a tenth of the cache; a pool read wholly every period stays nearly all cached.
TEST(LlcResidency, RarelyReadRowsLoseTheCacheToOtherTraffic) {
  const double c = 100e6, residency = 2e-3, ws = 10e6;  // other traffic: 50 GB/s
  const double often = llc_hit_share(c, residency, ws, 0.3, 100e-6);
  const double rarely = llc_hit_share(c, residency, ws, 0.03, 100e-6);
  const double longer = llc_hit_share(c, residency, ws, 0.03, 400e-6);
  EXPECT_GT(often, 0.95);
  EXPECT_LT(rarely, often);
  EXPECT_LT(longer, rarely);
  EXPECT_LT(longer, 0.5);
  EXPECT_GT(llc_hit_share(c, residency, ws, 1.0, 400e-6), 0.999);
  // Monotone in the residency, and in the cache at a given rate of other traffic.
  EXPECT_LT(llc_hit_share(c, residency / 2, ws, 0.03, 100e-6), rarely);
  EXPECT_LT(llc_hit_share(c / 2, residency / 2, ws, 0.03, 100e-6), rarely);
  // Where other traffic dominates, the size matters only through the residency.
  EXPECT_NEAR(llc_hit_share(10 * c, residency, 0.01 * ws, 0.03, 100e-6), llc_hit_share(20 * c, residency, 0.01 * ws, 0.03, 100e-6), 1e-4);
}

// An LRU cache of `capacity` lines; each period every pool line is read with probability `touched` and
// `other` lines never seen again are brought in, all in a random order. Returns the pool reads' hit share
// after a warm-up.
double simulate_lru(int capacity, int pool, double touched, int other, int periods, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::list<std::int64_t> order;  // most recent first
  std::unordered_map<std::int64_t, std::list<std::int64_t>::iterator> where;
  std::int64_t next_other = pool;
  std::bernoulli_distribution read(touched);
  std::int64_t hits = 0, reads = 0;
  std::vector<std::int64_t> period;
  for (int p = 0; p < periods; ++p) {
    period.clear();
    for (std::int64_t line = 0; line < pool; ++line)
      if (read(rng)) period.push_back(line);
    for (int i = 0; i < other; ++i) period.push_back(next_other++);
    std::shuffle(period.begin(), period.end(), rng);
    for (std::int64_t line : period) {
      const auto it = where.find(line);
      const bool hit = it != where.end();
      if (line < pool && p >= periods / 4) {
        ++reads;
        hits += hit;
      }
      if (hit) order.erase(it->second);
      order.push_front(line);
      where[line] = order.begin();
      if (static_cast<int>(order.size()) > capacity) {
        where.erase(order.back());
        order.pop_back();
      }
    }
  }
  return reads ? static_cast<double>(hits) / static_cast<double>(reads) : 0;
}

TEST(LlcResidency, AgreesWithASimulatedLruCache) {
  struct Case {
    int capacity, pool;
    double touched;
    int other;
  };
  // Lines of 1 byte and a period of 1 s: the rule's units do not matter, only the ratios. The cases keep what
  // one period brings in (pool x touched + other) below the cache, where lines outlive a period; the rule's
  // limit is stated in its header.
  for (const Case& k : {Case{2000, 1000, 0.05, 200}, Case{2000, 1000, 0.2, 200}, Case{2000, 4000, 0.1, 100},
                        Case{2000, 500, 0.02, 400}, Case{2000, 3000, 0.05, 300}, Case{2000, 2500, 0.1, 0}}) {
    const double lru = simulate_lru(k.capacity, k.pool, k.touched, k.other, 600, 7);
    const double residency = k.other > 0 ? static_cast<double>(k.capacity) / k.other : 0;  // periods
    const double rule = llc_hit_share(k.capacity, residency, k.pool, k.touched, 1.0);
    EXPECT_NEAR(rule, lru, 0.04) << "capacity " << k.capacity << " pool " << k.pool << " touched " << k.touched
                                 << " other " << k.other;
  }
}

}  // namespace
}  // namespace hgca
