// Double-precision reference for decode attention (one query token per sequence), written for clarity, not
// speed: two passes (scores, then softmax-weighted sum), no online rescaling, so it shares no algorithm with
// the CPU kernels it checks.
//
// LSE convention (same everywhere in hgca::kernels): lse = log(sum_j exp(s_j)) with the NATURAL logarithm,
// where s_j = scale * q . k_j. The output is normalized: out = sum_j exp(s_j - lse) v_j. An empty set of
// positions gives the empty result: out = 0, lse = -inf; merging with it is the identity.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include <Eigen/Core>

namespace hgca::kernels::ref {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct Result {
  Eigen::VectorXd out;  // normalized output, head_dim
  double lse;           // natural log; -inf for the empty result
  bool empty() const;
};

double default_scale(int head_dim);  // 1 / sqrt(head_dim)

// GQA: query head h reads KV head h / (q_heads / kv_heads). MQA is kv_heads = 1; MHA is kv_heads = q_heads.
int kv_head_for(int q_head, int q_heads, int kv_heads);

Result empty_result(int head_dim);

// k, v: [tokens x head_dim]. idx: positions attended, each in [0, tokens); a repeated index counts as many
// times as it appears (the CPU kernels behave the same). Throws std::out_of_range on a bad index.
Result attend_subset(const Eigen::VectorXd& q, const RowMatrix& k, const RowMatrix& v,
                     std::span<const std::int64_t> idx, double scale);
Result attend_full(const Eigen::VectorXd& q, const RowMatrix& k, const RowMatrix& v, double scale);

// The last `window` positions plus the first `sinks` positions, each position once even where they overlap.
std::vector<std::int64_t> window_indices(std::int64_t tokens, std::int64_t window, std::int64_t sinks);
Result attend_window(const Eigen::VectorXd& q, const RowMatrix& k, const RowMatrix& v, std::int64_t window,
                     std::int64_t sinks, double scale);

// Exact merge of two results over disjoint position sets (log-sum-exp of the two lse values).
Result merge(const Result& a, const Result& b);
// n-way merge with a single max over all parts; pairwise merge must agree with it.
Result merge_all(std::span<const Result> parts, int head_dim);

// All query heads of one sequence. q: [q_heads x head_dim]; k[kvh], v[kvh]: per KV head; idx[h]: positions
// for query head h.
std::vector<Result> attend_heads(const RowMatrix& q, const std::vector<RowMatrix>& k,
                                 const std::vector<RowMatrix>& v,
                                 std::span<const std::vector<std::int64_t>> idx, double scale);

}  // namespace hgca::kernels::ref
