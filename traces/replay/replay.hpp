// Trace replay: how close HGCA's attention comes to exact attention under a sparsity policy, for every layer,
// query head and decode step of a trace.
//
// At decode step t (position p = prompt_length + t) query head h's
//   exact output  attends every position 0..p;
//   HGCA output   merges (log-sum-exp) a dense "GPU" part over the sinks [0, S) and the window of the W most
//                 recent positions [p - W + 1, p] with a sparse "CPU" part over the entries the policy selected
//                 among the CPU-resident positions [S, p - W].
// Both run on the CPU kernels (kernels/cpu: dense_attention, sparse_attention, merge_normalized) in fp32 on
// the trace's values. Per (layer, head, step) replay records the relative L2 error of the HGCA output, the
// cosine similarity, the attention mass recovered (exp(lse_hgca - lse_exact): the exact softmax weight of the
// positions HGCA attended) and the entries selected; per (layer, KV head, step) what the selection cost.
//
// Work is split over (layer, KV head) on a thread pool: each task reads its K, V and queries once, scores all
// its decode steps against all keys with blocked fp32 dot products (kernels::score_keys over a block of steps)
// when the policy needs logits, and writes only its own slots, so results are identical whatever the thread
// count. Policies with a BudgetPlanner (adaptive top-k, oracle) get a first pass that measures every head
// before budgets are planned per (layer, step).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "traces/format/trace.hpp"
#include "traces/policies/policy.hpp"

namespace hgca::traces {

struct ReplayOptions {
  std::int64_t window = 0;        // W >= 1 most recent positions on the "GPU" (the decoded token included)
  std::int64_t sinks = 0;         // S first positions on the "GPU"; S <= prompt_length
  int threads = 1;                // results do not depend on it
  bool keep_selections = false;   // keep every step's lists in ReplayResult::selections (tests, debugging)
};

// What only the paper policy (HGCA as published, docs/REPLAY.md) produces. Its GPU part is the recall region
// plus the block window (they change with the evictions, unlike --window), its CPU part each head's sparse
// set; beside it replay runs the oracle at the same per-head budget: each query head attends, on the CPU, the
// top-(its sparse-set size) CPU-only positions by true attention weight.
struct PaperReplayData {
  std::string scope;                    // "q-head" or "kv-head": who owns a sparse set
  int selection_heads = 0;              // query heads, or KV heads with scope kv-head
  std::string prompt;                   // "queries" or "first-decode" (PaperPolicySpec::Prompt)
  std::int64_t prompt_queries_used = 0; // prompt queries whose mean weights made the prompt's selection
  // [step]
  std::vector<std::int64_t> gpu_tokens;  // recall + window + the decoded token: what the GPU attends
  // [layer][selection head][step]: sparse-set size the head attends at the step (before the step's eviction)
  std::vector<std::int32_t> sparse_set;
  // [layer][selection head][step]: tokens the head kept at the step's eviction (0 without one)
  std::vector<std::int32_t> kept;
  // [layer][q_head][step]: the oracle at the same per-head budget
  std::vector<float> oracle_rel_l2, oracle_cosine, oracle_mass;

  std::size_t set_index(int layer, int head, int step, std::int64_t steps) const {
    return (static_cast<std::size_t>(layer) * static_cast<std::size_t>(selection_heads) + static_cast<std::size_t>(head)) *
               static_cast<std::size_t>(steps) + static_cast<std::size_t>(step);
  }
};

struct ReplayResult {
  TraceMeta meta;                 // of the trace (tokens dropped)
  std::string policy;             // canonical spec
  std::string selection_method;   // Policy::selection_method()
  bool shared_kv = false;
  int summary_block = 0;          // block size of block-summary policies, else 0
  ReplayOptions options;

  // [layer][q_head][step]
  std::vector<float> rel_l2;      // ||hgca - exact|| / ||exact||
  std::vector<float> cosine;      // cosine similarity of the two outputs
  std::vector<float> mass;        // exact attention weight of the attended positions, in [0, 1]
  std::vector<std::int32_t> selected;  // CPU entries the head attended
  // [step]
  std::vector<std::int64_t> cpu_resident;  // candidates: positions [S, p - W]
  // [layer][kv_head][step]
  std::vector<std::int32_t> group_selected;  // union of the group's lists: the rows a KV-group task reads
  std::vector<std::int64_t> keys_scored, summary_rows, state_entries, indices;  // SelectionCost
  // [layer][q_head][step] lists (absolute positions), only with keep_selections
  std::vector<std::vector<std::int32_t>> selections;
  // Only for the paper policy; there `cpu_resident` is the CPU-only region (what a sparse set is chosen from)
  // and `selected` the query head's sparse-set size.
  std::optional<PaperReplayData> paper;

  double seconds = 0;             // wall time of replay()
  double cpu_seconds = 0;         // CPU time of the process during replay() (all threads): the speed on an
                                  // idle machine, when others share the cores
  double kv_bytes = 0;            // fp32 K and V an exact decode attention reads: sum over (layer, KV head,
                                  // step) of (p + 1) x head_dim x 2 x 4 bytes

  // Sizes the per-(layer, head, step) and per-(layer, KV head, step) arrays for `meta`, zeroed; `selections`
  // only when they are kept.
  void allocate(bool keep_selections);

  std::size_t head_index(int layer, int q_head, int step) const {
    return (static_cast<std::size_t>(layer) * static_cast<std::size_t>(meta.num_q_heads) + static_cast<std::size_t>(q_head)) *
               static_cast<std::size_t>(meta.decode_steps) + static_cast<std::size_t>(step);
  }
  std::size_t group_index(int layer, int kv_head, int step) const {
    return (static_cast<std::size_t>(layer) * static_cast<std::size_t>(meta.num_kv_heads) + static_cast<std::size_t>(kv_head)) *
               static_cast<std::size_t>(meta.decode_steps) + static_cast<std::size_t>(step);
  }
};

// Throws std::invalid_argument (one line) for options the trace cannot satisfy (window < 1, sinks beyond the
// prompt, window + sinks covering the whole trace), TraceError for a bad trace. The paper policy ignores a
// zero --window (its window comes from the spec) and rejects any other window or sinks, and a trace without
// prompt queries unless its spec says prompt=first-decode.
ReplayResult replay(const TraceSource& trace, const Policy& policy, const ReplayOptions& options);

}  // namespace hgca::traces
