// The CPU work of attention over CPU-resident KV, split into tasks the way the configuration asks
// (one per (sequence, query head), per (sequence, KV head) or per sequence). One place decides what each
// task reads and computes, so `hgca`, `cpu-full` and `fetch-topk` charge the CPU consistently.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/hw/op_graph.hpp"
#include "sim/policy/strategy.hpp"

namespace hgca {

// Sparse attention (with its selection work) of one layer for every sequence, appended as tasks to the
// cpu_batch most recently added to `g`. cpu_entries[i]: CPU-resident entries of sequence i.
void add_sparse_attention_tasks(StepGraph& g, const StrategyContext& ctx, int layer, int step,
                                const std::vector<int64_t>& cpu_entries);

// Dense attention over all `entries[i]` entries of sequence i (cpu-full).
void add_dense_attention_tasks(StepGraph& g, const StrategyContext& ctx, const std::vector<int64_t>& entries);

// Gathering the selected rows of one layer into a pinned staging buffer (fetch-topk): reads scattered rows,
// writes them contiguously. Returns the bytes gathered (what then crosses PCIe).
double add_gather_tasks(StepGraph& g, const StrategyContext& ctx, int layer, const std::vector<int64_t>& cpu_entries);

}  // namespace hgca
