// Choosing which CPU-resident tokens a query head attends.
//
//   score_keys:   exact logits scale * q . k for every key of one KV head (a full key scan), for the query
//                 heads of one GQA group at once so the keys are read once.
//   top_k:        the k highest scores.
//   block summaries (Quest-style): per block of B consecutive tokens the elementwise min and max of its keys;
//                 sum_i max(q_i * min_i, q_i * max_i) bounds q . k from above for every key of the block, so
//                 blocks can be ranked by reading 2 rows per block instead of B.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "kernels/cpu/isa.hpp"
#include "kernels/cpu/kv_store.hpp"
#include "kernels/cpu/status.hpp"

namespace hgca::kernels {

// scores[g * tokens + t] = scale * q_g . k_t for the `group` query rows q = [group x head_dim] and every key t
// of (seq, kv_head). scale = 0 means 1 / sqrt(head_dim).
Status score_keys(const KvStore& kv, int seq, int kv_head, std::span<const float> q, int group, float scale,
                  std::span<float> scores, std::optional<Isa> isa = std::nullopt);

// Positions of the k largest scores (all of them when k >= size), returned in ascending position order, the
// order that reads KV rows front to back. Ties go to the lower position; NaN ranks below every number.
std::vector<std::int32_t> top_k(std::span<const float> scores, std::int64_t k);

struct BlockSummaries {
  int block_size = 0;
  int head_dim = 0;
  std::int64_t tokens = 0;  // the last block may be partial
  std::vector<float> kmin;  // [blocks x head_dim]
  std::vector<float> kmax;  // [blocks x head_dim]
  std::int64_t blocks() const { return block_size ? (tokens + block_size - 1) / block_size : 0; }
};

// block_size > 0 (else std::invalid_argument). Built once per block as keys arrive (scalar: it is off the decode path). Keys widen to fp32 exactly, so
// the summaries hold exact key values.
BlockSummaries summarize_blocks(const KvStore& kv, int seq, int kv_head, int block_size);

// bounds[b] = scale * sum_i max(q_i * kmin[b][i], q_i * kmax[b][i]); scale must be > 0 (0 means the
// default 1 / sqrt(head_dim)). For every key k in block b, bounds[b] >= scale * q . k up to fp32 rounding of
// the two sums (at most about head_dim * 2^-24 * scale * sum_i |q_i| max(|kmin_i|, |kmax_i|)).
Status block_upper_bounds(const BlockSummaries& summaries, std::span<const float> q, float scale,
                          std::span<float> bounds, std::optional<Isa> isa = std::nullopt);

// The token positions of the given blocks (any order in, repeats dropped, ascending out), clipped to `tokens`.
std::vector<std::int32_t> expand_blocks(std::span<const std::int32_t> blocks, int block_size, std::int64_t tokens);

}  // namespace hgca::kernels
