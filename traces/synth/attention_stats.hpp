// Per-head attention statistics of decode steps: how much softmax mass sits on the sink tokens and inside the
// recent window, how many keys hold 90% / 99% of it, the entropy, and the mass profile over distance octaves.
// One implementation serves `hgca trace stats`, the fit (its targets and its model evaluations) and the tests.
#pragma once

#include <bit>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "traces/format/trace.hpp"

namespace hgca::traces::synth {

// Distance octaves between a query at position p and a key at position j <= p, d = p - j:
// bin 0 is d = 0 (the query's own key), bin 1 is d = 1, bin k >= 1 is d in [2^(k-1), 2^k - 1].
inline int distance_bin(int64_t d) { return d <= 0 ? 0 : static_cast<int>(std::bit_width(static_cast<uint64_t>(d))); }
inline int64_t bin_first(int k) { return k == 0 ? 0 : int64_t{1} << (k - 1); }
inline int64_t bin_size(int k) { return k == 0 ? 1 : int64_t{1} << (k - 1); }
inline int bins_for_length(int64_t positions) { return distance_bin(positions - 1) + 1; }

struct StatsOptions {
  int64_t sinks = 4;     // positions 0..sinks-1 are the attention sinks
  int64_t window = 1024; // the last `window` positions (the query's own included) form the recent window
};

// Averages over the decode steps of one (layer, query head). Sinks and window are disjoint: a sink inside the
// window counts as a sink only, so sink_mass + window_mass is what a sinks + window cache holds.
struct HeadStats {
  int layer = 0, head = 0;
  int64_t steps = 0;
  double mean_context = 0;   // mean number of keys a step attends
  double sink_mass = 0, window_mass = 0;
  double keys90 = 0, keys99 = 0;  // smallest number of keys whose mass reaches 90% / 99%
  double frac90 = 0, frac99 = 0;  // the same as a fraction of the keys the step attends
  double entropy = 0;             // nats
  std::vector<double> bin_mass;   // mass on non-sink keys per distance bin (distance_bin)
};

// Accumulates the statistics of one head, one decode step at a time.
class StatsAccumulator {
 public:
  explicit StatsAccumulator(StatsOptions opt) : opt_(opt) {}
  // Logits (any additive constant) of one step over positions 0..n-1; the query sits at position n-1.
  // Positions with excluded[j] != 0 (when given) are left out of bin_mass only (the fit uses this to compare
  // distance profiles without the spikes).
  void add_step(std::span<const double> logits, std::span<const uint8_t> excluded = {});
  HeadStats result(int layer, int head) const;

 private:
  StatsOptions opt_;
  int64_t steps_ = 0;
  double context_ = 0, sink_ = 0, window_ = 0, k90_ = 0, k99_ = 0, f90_ = 0, f99_ = 0, entropy_ = 0;
  std::vector<double> bins_;
};

// Calls visit(layer, q_head, t, logits) for every (layer, query head) and each decode step t in `steps`
// (ascending), with logits = softmax_scale * q_t . k_j over positions j = 0..prompt_length + t. Each KV head's
// keys are read once.
void for_each_step_logits(const TraceSource& trace, const std::vector<int64_t>& steps,
                          const std::function<void(int, int, int64_t, std::span<const double>)>& visit);

// Statistics of every (layer, query head), layer-major, from the trace's own queries and keys
// (logit = softmax_scale * q . k over positions 0..p). `max_steps` > 0 keeps that many decode steps, evenly
// spaced, the last included. Throws TraceError on a bad trace or options.
std::vector<HeadStats> trace_stats(const TraceSource& trace, const StatsOptions& opt, int64_t max_steps = 0);

// The decode steps kept when `max_steps` of `steps` are asked for (all when max_steps <= 0 or >= steps).
std::vector<int64_t> sample_steps(int64_t steps, int64_t max_steps);

// Validates options against a trace of `positions` keys; throws TraceError naming the option.
void check_stats_options(const StatsOptions& opt, int64_t positions, const std::string& what);

}  // namespace hgca::traces::synth
