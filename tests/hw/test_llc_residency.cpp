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
      EXPECT_NEAR(llc_hit_share(100e6, 0, LlcReads::drawn(ws, touched), 1e-3), std::min(1.0, 100e6 / ws), 1e-9) << ws << " " << touched;
      EXPECT_NEAR(llc_hit_share(100e6, 2e-3, LlcReads::drawn(ws, touched), 0), std::min(1.0, 100e6 / ws), 1e-9) << "period unknown";
    }
}

TEST(LlcResidency, NothingWithoutACacheAWorkingSetOrReadsUnderOtherTraffic) {
  EXPECT_EQ(llc_hit_share(0, 2e-3, LlcReads::drawn(1e6, 0.5), 1e-3), 0);
  EXPECT_EQ(llc_hit_share(100e6, 2e-3, LlcReads::drawn(0, 0.5), 1e-3), 0);
  EXPECT_EQ(llc_hit_share(100e6, 2e-3, LlcReads::drawn(1e6, 0), 1e-3), 0);
  // Without other traffic a step that reads none of the set still gets the knee (the old rule exactly).
  EXPECT_DOUBLE_EQ(llc_hit_share(100e6, 0, LlcReads::drawn(400e6, 0), 1e-3), 0.25);
}

// Other traffic evicts the rows a step reads rarely: fewer hits for a smaller touched share and for a longer
// period, even from a pool a tenth of the cache; a pool read wholly every period stays nearly all cached.
TEST(LlcResidency, RarelyReadRowsLoseTheCacheToOtherTraffic) {
  const double c = 100e6, residency = 2e-3, ws = 10e6;  // other traffic: 50 GB/s
  const double often = llc_hit_share(c, residency, LlcReads::drawn(ws, 0.3), 100e-6);
  const double rarely = llc_hit_share(c, residency, LlcReads::drawn(ws, 0.03), 100e-6);
  const double longer = llc_hit_share(c, residency, LlcReads::drawn(ws, 0.03), 400e-6);
  EXPECT_GT(often, 0.95);
  EXPECT_LT(rarely, often);
  EXPECT_LT(longer, rarely);
  EXPECT_LT(longer, 0.5);
  EXPECT_GT(llc_hit_share(c, residency, LlcReads::drawn(ws, 1.0), 400e-6), 0.999);
  // Monotone in the residency, and in the cache at a given rate of other traffic.
  EXPECT_LT(llc_hit_share(c, residency / 2, LlcReads::drawn(ws, 0.03), 100e-6), rarely);
  EXPECT_LT(llc_hit_share(c / 2, residency / 2, LlcReads::drawn(ws, 0.03), 100e-6), rarely);
  // Where other traffic dominates, the size matters only through the residency.
  EXPECT_NEAR(llc_hit_share(10 * c, residency, LlcReads::drawn(0.01 * ws, 0.03), 100e-6), llc_hit_share(20 * c, residency, LlcReads::drawn(0.01 * ws, 0.03), 100e-6), 1e-4);
}

// Lines of the pool read with the same probability per period.
struct Kind {
  int lines;
  double per_period;
};

// An LRU cache of `capacity` lines; each period every pool line is read with its kind's probability and
// `other` lines never seen again are brought in, all in a random order. Returns the pool reads' hit share
// after a warm-up.
double simulate_lru(int capacity, const std::vector<Kind>& kinds, int other, int periods, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::list<std::int64_t> order;  // most recent first
  std::unordered_map<std::int64_t, std::list<std::int64_t>::iterator> where;
  std::int64_t pool = 0;
  for (const Kind& k : kinds) pool += k.lines;
  std::int64_t next_other = pool;
  std::uniform_real_distribution<double> u(0, 1);
  std::int64_t hits = 0, reads = 0;
  std::vector<std::int64_t> period;
  for (int p = 0; p < periods; ++p) {
    period.clear();
    std::int64_t line = 0;
    for (const Kind& k : kinds)
      for (int i = 0; i < k.lines; ++i, ++line)
        if (u(rng) < k.per_period) period.push_back(line);
    for (int i = 0; i < other; ++i) period.push_back(next_other++);
    std::shuffle(period.begin(), period.end(), rng);
    for (std::int64_t l : period) {
      const auto it = where.find(l);
      const bool hit = it != where.end();
      if (l < pool && p >= periods / 4) {
        ++reads;
        hits += hit;
      }
      if (hit) order.erase(it->second);
      order.push_front(l);
      where[l] = order.begin();
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
    const double lru = simulate_lru(k.capacity, {{k.pool, k.touched}}, k.other, 600, 7);
    const double residency = k.other > 0 ? static_cast<double>(k.capacity) / k.other : 0;  // periods
    const double rule = llc_hit_share(k.capacity, residency, LlcReads::drawn(k.pool, k.touched), 1.0);
    EXPECT_NEAR(rule, lru, 0.04) << "capacity " << k.capacity << " pool " << k.pool << " touched " << k.touched
                                 << " other " << k.other;
  }
}

// Kinds that come back at different rates share the cache: the often-read kind holds its lines, the rarely
// read one loses them first, and the step's hit share weighs each kind by what the step reads of it.
TEST(LlcResidency, KindsReadAtDifferentRatesAgreeWithASimulatedLruCache) {
  struct Case {
    int capacity;
    Kind often, rarely;
    int other;
  };
  for (const Case& k : {Case{2000, {400, 0.5}, {2000, 0.05}, 200}, Case{2000, {1000, 0.3}, {3000, 0.02}, 100},
                        Case{2000, {200, 0.8}, {4000, 0.05}, 300}}) {
    const double lru = simulate_lru(k.capacity, {k.often, k.rarely}, k.other, 600, 11);
    const double ws = k.often.lines + k.rarely.lines;
    const LlcReads reads{ws,
                         {{{k.often.lines / ws, k.often.per_period, k.often.per_period},
                           {k.rarely.lines / ws, k.rarely.per_period, k.rarely.per_period},
                           {}}}};
    const double rule = llc_hit_share(k.capacity, static_cast<double>(k.capacity) / k.other, reads, 1.0);
    EXPECT_NEAR(rule, lru, 0.04) << "often " << k.often.lines << " rarely " << k.rarely.lines;
    // One kind at the pool's mean rate (what a step would be taken for without the kinds) hits less: the
    // often-read lines are both most of the reads and the ones the cache keeps.
    const double mean = (k.often.lines * k.often.per_period + k.rarely.lines * k.rarely.per_period) / ws;
    EXPECT_LT(llc_hit_share(k.capacity, static_cast<double>(k.capacity) / k.other, LlcReads::drawn(ws, mean), 1.0),
              rule - 0.02);
  }
}

// What a step does not read now still takes its room: lines read at some other step of a cycle are in the
// working set, and only the kinds the step reads weigh its hit share.
TEST(LlcResidency, OnlyTheKindsAStepReadsWeighItsHitShare) {
  const double c = 100e6, ws = 300e6, residency = 2e-3, period = 200e-6;
  const LlcReads both{ws, {{{0.2, 0.9, 1}, {0.8, 0.05, 0.05}, {}}}};
  LlcReads first = both;
  first.lines[1].read_now = 0;  // the same cache contents; the step reads only the often-read kind
  const double h_both = llc_hit_share(c, residency, both, period), h_first = llc_hit_share(c, residency, first, period);
  EXPECT_GT(h_first, h_both);
  EXPECT_GT(h_first, 0.5);
  LlcReads none = both;
  none.lines[0].read_now = none.lines[1].read_now = 0;
  EXPECT_EQ(llc_hit_share(c, residency, none, period), 0);
  EXPECT_DOUBLE_EQ(llc_hit_share(c, 0, none, period), 1.0 / 3);  // no other traffic: the knee, as ever
}

}  // namespace
}  // namespace hgca
