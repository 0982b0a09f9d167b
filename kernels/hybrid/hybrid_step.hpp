// One HGCA attention step for a batch, on real kernels, overlapped the way a serving system would run it:
//
//   GPU main stream : window attention (kernels/cuda) ............................ wait -> merge
//   GPU copy stream : queries D2H (pinned) ............................. H2D of the CPU part ^
//   host threads    :                     wait q -> [top-k selection] -> sparse attention (kernels/cpu)
//
// The CPU part (per-head lists over the pool) and the GPU part (the whole window) cover disjoint token
// sets, so the merge by log-sum-exp is exact. Every phase is timed (CUDA events on the GPU side, a
// steady clock on the host) so a benchmark can report the overhead beyond the slower side.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/hybrid/hybrid_config.hpp"

namespace hgca::kernels::hybrid {

struct PhaseTimes {
  double gpu_window_ms = 0;     // window attention kernels (events around them)
  double d2h_query_ms = 0;      // queries to pinned host memory
  double cpu_select_ms = 0;     // top-k scoring and selection (0 for random selection)
  double cpu_attention_ms = 0;  // sparse attention on the pool
  double h2d_result_ms = 0;     // CPU output + LSE back to the GPU
  double merge_ms = 0;          // LSE merge kernel
  double total_ms = 0;          // host clock: from issuing the step to the merged result being complete
  double cpu_side_ms() const { return cpu_select_ms + cpu_attention_ms; }
  // Transfers, merge and waiting beyond the slower of the two sides.
  double overhead_ms() const { return total_ms - (gpu_window_ms > cpu_side_ms() ? gpu_window_ms : cpu_side_ms()); }
};

struct CheckResult {
  int rows = 0;                  // (sequence, query head) rows checked
  double max_rel_error = 0;      // normwise: max_i |o_i - r_i| / max_i |r_i|
  double max_lse_error = 0;      // absolute, natural log
};

class HybridStep {
 public:
  // Allocates and fills the GPU window and the CPU pool and its copies (deterministic in config.seed), then,
  // with config.warm_pool, reads the pool once (read_pool). Throws std::invalid_argument for a bad
  // configuration and cuda::CudaError when the GPU refuses.
  explicit HybridStep(const HybridConfig& config);
  ~HybridStep();
  HybridStep(const HybridStep&) = delete;
  HybridStep& operator=(const HybridStep&) = delete;

  const HybridConfig& config() const;
  // Runs one step and returns its phase times. The merged result stays on the GPU until output().
  PhaseTimes run();
  // Reads every pool copy once, in the order the next steps will read them (HybridConfig::warm_pool): for a
  // caller whose own setup after the constructor streams through the cache (ModelStep's weights).
  void read_pool();
  // The pool copy the last run read (0 .. pool_copies - 1; 0 before any run).
  int last_pool_copy() const;
  // The merged output [batch x q_heads x head_dim] and LSE [batch x q_heads] of the last run (synchronous).
  void output(std::vector<float>& out, std::vector<float>& lse) const;
  // Pool rows attended by (seq, q_head) in the last run (ascending).
  std::vector<std::int32_t> selected(int seq, int q_head) const;
  // Compares the last run's merged rows with the double reference (kernels/ref) over the window rows read
  // back from the GPU plus the selected pool rows, for `rows` (sequence, query head) pairs spread over the
  // batch (all rows if rows <= 0 or more than there are).
  CheckResult check(int rows) const;
  // Bytes each side must read per step: window K and V; the pool rows selected by at least one head of a
  // KV group, once per (sequence, KV head) (the last run's lists; plus every key for top-k scoring).
  double gpu_bytes() const;
  double cpu_bytes() const;
  int cpu_threads() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hgca::kernels::hybrid
