// HGCA as its authors built it ("Beyond", deng451e/beyond-ae): which KV entries of one sequence's layer stay
// on the GPU, which leave for CPU memory, and which of those each head keeps in its CPU-side sparse set.
// Pure logic over token counts and score arrays: no simulator, no hardware, so trace replay can drive it with
// real attention weights and the simulator with per-head kept-count statistics.
//
// The mechanism, per (sequence, layer), H heads (query heads, or KV heads with PaperSelectionScope::KvHead):
//  - Tokens live, oldest first, in three regions: CPU-only, recall (the most recently evicted `recall_blocks`
//    blocks, still attended on the GPU) and the window (at most gpu_blocks x block_size tokens). Absolute
//    positions: CPU-only [0, c), recall [c, c + r), window [c + r, c + r + w).
//  - Window rule (the authors' add_cache): appending m tokens to a window of w tokens with capacity C keeps
//    them all while w + m < C; otherwise the oldest e = floor((w + m - C) / B + 1) * B tokens leave (whole
//    blocks of B; the window never reaches C). Leaving tokens join the recall region; what overflows it
//    (oldest first) becomes CPU-only.
//  - Scores: every GPU-attended position has a smoothed score per head. A decode step with weights a over
//    (recall, window, new token) sets s <- alpha * a + (1 - alpha) * s for the old positions and s = a for the
//    new one. A multi-token append replaces the scores by the new queries' mean weights (no smoothing).
//  - Selection happens when tokens become CPU-only: each head counts those with s >= beta / n (n: the tokens
//    the window attention covered, or the whole context, see PaperThresholdBase); heads are split into
//    head_groups contiguous groups; every head of a group keeps k = max(keep_min, largest count of the group)
//    tokens (at most the number leaving), chosen by its own top-k of s. Kept tokens join the head's sparse set
//    and are never rescored.
//  - A multi-token append also reselects: the CPU computes the new queries' dense attention over all CPU-only
//    tokens; with their mean weights a_cpu, each head counts a_cpu >= beta / (CPU-only tokens) and keeps its
//    group's k by top-k; the sparse set becomes that selection plus the selection of this append's leavers.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "sim/config/experiment.hpp"  // PaperSpec: plain data, no library dependency

namespace hgca::paper {

// Heads [first, last) of group g when `heads` heads are split into `groups` contiguous groups (the authors
// split the batch x heads axis into slices of heads / groups; uneven splits give the first groups fewer heads).
std::pair<int, int> group_heads(int heads, int groups, int g);

// How many of `scores` are >= threshold.
int64_t count_at_least(std::span<const double> scores, double threshold);

// Per-head keep amounts for one selection: every head of a group keeps max(keep_min, the group's largest
// count), at most `available` (the tokens being selected from).
std::vector<int64_t> group_keep(std::span<const int64_t> counts, int head_groups, int64_t keep_min, int64_t available);

// Positions (indices into `scores`) of the k largest scores, ties broken towards the earlier position,
// returned in ascending position order.
std::vector<int64_t> top_k(std::span<const double> scores, int64_t k);

// Token counts of one sequence's layer under the block rules; what one append moved.
struct BlockMove {
  int64_t left_window = 0;  // tokens evicted from the window (copied device-to-host)
  int64_t left_recall = 0;  // tokens that became CPU-only (selected now)
};

class BlockWindow {
 public:
  explicit BlockWindow(const PaperSpec& spec);
  BlockMove append(int64_t tokens);
  int64_t window() const { return window_; }
  int64_t recall() const { return recall_; }
  int64_t cpu_only() const { return cpu_; }
  int64_t context() const { return cpu_ + recall_ + window_; }
  int64_t attended() const { return recall_ + window_; }  // tokens the GPU attends to

 private:
  int64_t block_, capacity_, recall_capacity_;
  int64_t window_ = 0, recall_ = 0, cpu_ = 0;
};

// The whole mechanism with real scores, for one sequence's layer and `heads` heads.
class PaperSelector {
 public:
  using Weights = std::vector<std::vector<double>>;  // [head][position]

  PaperSelector(const PaperSpec& spec, int heads);

  // One decoded token. weights[h]: head h's attention weights over (recall, window, new token), that is
  // attended() + 1 values. Throws std::invalid_argument on a shape mismatch.
  void decode(const Weights& weights);
  // m > 1 new tokens (a prompt, a chunk, a new turn). gpu_weights[h]: the new queries' mean weights over
  // (recall, window, new tokens): attended() + m values. cpu_weights[h]: their mean weights over the CPU-only
  // tokens: cpu_only() values (empty vectors when there are none).
  void append(int64_t m, const Weights& gpu_weights, const Weights& cpu_weights);

  const BlockWindow& layout() const { return layout_; }
  // Absolute positions in head h's CPU-side sparse set, ascending.
  const std::vector<int64_t>& kept(int head) const { return kept_[static_cast<size_t>(head)]; }
  // Head h's smoothed scores over the GPU-attended positions (recall, then window).
  const std::vector<double>& scores(int head) const { return scores_[static_cast<size_t>(head)]; }
  // Per-head tokens kept by the most recent selection (0 where none ran).
  const std::vector<int64_t>& last_keep() const { return last_keep_; }

 private:
  void check(const Weights& w, int64_t expected, const char* what) const;
  // Moves `m` appended tokens through the regions and selects among those that became CPU-only.
  void move_and_select(int64_t m);
  double threshold_n(int64_t attended_before_move) const;

  PaperSpec spec_;
  int heads_;
  BlockWindow layout_;
  std::vector<std::vector<double>> scores_;  // [head][recall + window]
  std::vector<std::vector<int64_t>> kept_;
  std::vector<int64_t> last_keep_;
};

}  // namespace hgca::paper
