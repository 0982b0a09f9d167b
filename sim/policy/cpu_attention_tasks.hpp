// The CPU work of attention over CPU-resident KV, split into tasks the way the configuration asks
// (one per (sequence, query head), per (sequence, KV head) or per sequence). One place decides what each
// task reads and computes, so `hgca`, `cpu-full` and `fetch-topk` charge the CPU consistently.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/hw/op_graph.hpp"
#include "sim/policy/strategy.hpp"

namespace hgca {

// What a step's attention tasks tell the last-level-cache model (sim/hw/llc_residency.hpp, applied by the CPU
// pool with the step's reuse period). The working set is the CPU-resident KV the step reads: every layer's
// pool (each layer attends its own KV once per step), layers x the K and V rows of all `entries` (every KV head;
// one layer for a one-layer model such as an attention_only study). How the step reads it depends on the
// selection method, with u the share of rows the step's lists pick (the union of a KV group's lists:
// independent draws for per-head lists, as barely_overlapping estimates them, or the shared list), averaged over
// (sequence, KV head) by rows:
//   key-scan      the keys (their share of a row) every step; the values of the picked rows, drawn afresh
//   reuse-last    the picked rows every step of an interval; the other keys once per interval, on the rescan;
//                 the other values when a rescan picks them
//   given, block-summary   the picked rows (whole blocks), drawn afresh
// Dense attention reads every row every step. Top-k lists of real models change slowly from step to step;
// the simulator counts only how many rows a list holds, so apart from reuse-last it takes them as new every
// step, as the hybrid runner's random lists are. cpu.llc_bytes, the cache the KV effectively gets (other data
// and other tenants make it smaller than the datasheet's), and cpu.llc_residency are fitted.
double step_cpu_working_set(const StrategyContext& ctx, const std::vector<int64_t>& entries);
LlcReads sparse_step_cache_use(const StrategyContext& ctx, int layer, int step, const std::vector<int64_t>& entries);

// Sparse attention (with its selection work) of one layer for every sequence, appended as tasks to the
// cpu_batch most recently added to `g`. cpu_entries[i]: CPU-resident entries of sequence i.
void add_sparse_attention_tasks(StepGraph& g, const StrategyContext& ctx, int layer, int step,
                                const std::vector<int64_t>& cpu_entries);

// Dense attention over all `entries[i]` entries of sequence i (cpu-full).
void add_dense_attention_tasks(StepGraph& g, const StrategyContext& ctx, const std::vector<int64_t>& entries);

// Dense attention over per-head sparse sets held as contiguous copies (the paper preset): one task per
// (sequence, head group). sets[i][h]: entries in selection head h's set of sequence i; selection heads are
// query heads, or KV heads when `per_kv_head` (each set then serves the group's query heads, read once).
void add_head_group_tasks(StepGraph& g, const StrategyContext& ctx, const std::vector<const double*>& sets,
                          int head_groups, bool per_kv_head);

// Gathering the selected rows of one layer into a pinned staging buffer (fetch-topk): reads scattered rows,
// writes them contiguously. Returns the bytes gathered (what then crosses PCIe).
double add_gather_tasks(StepGraph& g, const StrategyContext& ctx, int layer, const std::vector<int64_t>& cpu_entries);
// The same for a fixed number of rows per KV head of each sequence (rows[i]); returns the bytes gathered.
double add_row_gather_tasks(StepGraph& g, const StrategyContext& ctx, const std::vector<double>& rows);

}  // namespace hgca
