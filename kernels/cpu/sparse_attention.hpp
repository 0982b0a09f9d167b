// Decode attention on the CPU over KV rows held in a KvStore: one query token per sequence, every query
// head attending either its own list of token indices (sparse) or a contiguous range (dense).
//
// Layouts (all fp32, dense, row-major):
//   q, out: [sequences x q_heads x head_dim]      lse: [sequences x q_heads]
// GQA: query head h reads KV head h / (q_heads / kv_heads) (MQA: kv_heads = 1). Output rows are normalized;
// lse is the natural-log log-sum-exp of the scaled scores (AttentionState explains the convention), so a
// part computed here merges exactly with a part computed elsewhere (merge_normalized). A head with no
// position gets out = 0 and lse = -inf.
//
// Work is split into tasks (one (sequence, query head), one (sequence, KV-head group) or one sequence) run
// on the pool under a static or dynamic partition. A KV-group task reads each K and V row once for all the
// query heads of the group that selected it (the union of their lists), which is what keeps GQA
// bandwidth-bound instead of paying for every head's reads separately. The result does not depend on the
// pool size or the partition; it can differ in the last bits between granularities (the order of additions
// differs).
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "kernels/cpu/isa.hpp"
#include "kernels/cpu/kv_store.hpp"
#include "kernels/cpu/status.hpp"
#include "kernels/cpu/thread_pool.hpp"

namespace hgca::kernels {

enum class TaskGranularity { head, kv_group, sequence };
const char* granularity_name(TaskGranularity g);  // "head" | "kv_group" | "sequence"

struct AttentionOptions {
  float scale = 0.0f;  // 0 means 1 / sqrt(head_dim)
  TaskGranularity granularity = TaskGranularity::kv_group;
  Partition partition = Partition::dynamic;
  std::optional<Isa> isa;  // unset: active_isa(); set: that path, or `unsupported` if this CPU cannot run it
  // KV-group tasks adapt how they read (sparse_attention.cpp says why): lists that barely overlap are attended
  // head by head; dense selections (the group's lists holding >= 1/8 of the context) are read in ascending row
  // order. false: always the union of the group's lists in list order (benchmarks compare the two).
  bool adaptive_group_tasks = true;
};

struct AttentionOutput {
  std::span<float> out;  // [sequences x q_heads x head_dim]
  std::span<float> lse;  // [sequences x q_heads]
};

// Token lists in CSR form, one per (sequence, query head): list r = seq * q_heads + head is
// indices[offsets[r], offsets[r + 1]). Each index must lie in [0, kv.tokens(seq)) and appear at most once in
// its list; the order is free (it only changes the order of additions).
struct TokenLists {
  std::span<const std::int64_t> offsets;  // sequences * q_heads + 1 entries, offsets[0] = 0, non-decreasing
  std::span<const std::int32_t> indices;
};

// pool = null runs every task on the calling thread. On a non-ok status the outputs are unspecified.
Status sparse_attention(const KvStore& kv, int q_heads, std::span<const float> q, TokenLists lists,
                        AttentionOutput result, const AttentionOptions& options = {}, ThreadPool* pool = nullptr);

struct TokenRange {
  std::int64_t begin;
  std::int64_t end;  // exclusive; begin == end is an empty range
};

// Every query head of sequence s attends tokens [ranges[s].begin, ranges[s].end) of its KV head.
Status dense_attention(const KvStore& kv, int q_heads, std::span<const float> q, std::span<const TokenRange> ranges,
                       AttentionOutput result, const AttentionOptions& options = {}, ThreadPool* pool = nullptr);

}  // namespace hgca::kernels
