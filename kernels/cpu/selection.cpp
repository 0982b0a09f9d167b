#include "kernels/cpu/selection.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "kernels/cpu/kernel_dispatch.hpp"

namespace hgca::kernels {
namespace {
int padded_dim(int d) { return (d + detail::kPadFloats - 1) / detail::kPadFloats * detail::kPadFloats; }
float resolve_scale(float scale, int head_dim) {
  return scale != 0.0f ? scale : 1.0f / std::sqrt(static_cast<float>(head_dim));
}
}  // namespace

Status score_keys(const KvStore& kv, int seq, int kv_head, std::span<const float> q, int group, float scale,
                  std::span<float> scores, std::optional<Isa> isa) {
  if (seq < 0 || seq >= kv.num_sequences() || kv_head < 0 || kv_head >= kv.kv_heads())
    return Status::invalid("score_keys: sequence or KV head out of range");
  const int d = kv.head_dim();
  const std::int64_t n = kv.tokens(seq);
  if (group < 1 || q.size() != static_cast<std::size_t>(group) * static_cast<std::size_t>(d))
    return Status::invalid("score_keys: q must hold group x head_dim floats, group >= 1");
  if (scores.size() != static_cast<std::size_t>(group) * static_cast<std::size_t>(n))
    return Status::invalid("score_keys: scores must hold group x tokens floats");
  if (!std::isfinite(scale)) return Status::invalid("score_keys: scale must be finite");
  Status status;
  const detail::KernelTable* table = detail::resolve_kernels(isa, status);
  if (!table) return status;
  const int dp = padded_dim(d);
  std::vector<float> scratch(static_cast<std::size_t>(group + 1) * static_cast<std::size_t>(dp));
  detail::ScoreKeysArgs args{};
  args.keys = kv.keys(seq, kv_head);
  args.q = q.data();
  args.count = n;
  args.head_dim = d;
  args.padded_dim = dp;
  args.group = group;
  args.scale = resolve_scale(scale, d);
  args.scores = scores.data();
  args.q_scratch = scratch.data();
  args.row_scratch = scratch.data() + static_cast<std::size_t>(group) * static_cast<std::size_t>(dp);
  table->score_keys[static_cast<int>(kv.type())](args);
  return Status::success();
}

std::vector<std::int32_t> top_k(std::span<const float> scores, std::int64_t k) {
  std::vector<std::int32_t> idx(scores.size());
  std::iota(idx.begin(), idx.end(), 0);
  if (k <= 0) return {};
  if (static_cast<std::size_t>(k) < idx.size()) {
    // A strict total order: higher score first, NaN last, ties by lower position.
    auto better = [&](std::int32_t a, std::int32_t b) {
      const float sa = scores[static_cast<std::size_t>(a)], sb = scores[static_cast<std::size_t>(b)];
      const bool na = std::isnan(sa), nb = std::isnan(sb);
      if (na != nb) return nb;
      if (!na && sa != sb) return sa > sb;
      return a < b;
    };
    std::nth_element(idx.begin(), idx.begin() + k, idx.end(), better);
    idx.resize(static_cast<std::size_t>(k));
  }
  std::sort(idx.begin(), idx.end());
  return idx;
}

BlockSummaries summarize_blocks(const KvStore& kv, int seq, int kv_head, int block_size) {
  if (block_size <= 0) throw std::invalid_argument("summarize_blocks: block_size must be > 0");
  BlockSummaries s;
  s.block_size = block_size;
  s.head_dim = kv.head_dim();
  s.tokens = kv.tokens(seq);
  const auto d = static_cast<std::size_t>(s.head_dim);
  const auto blocks = static_cast<std::size_t>(s.blocks());
  s.kmin.assign(blocks * d, INFINITY);
  s.kmax.assign(blocks * d, -INFINITY);
  for (std::int64_t t = 0; t < s.tokens; ++t) {
    const std::size_t b = static_cast<std::size_t>(t / block_size);
    for (std::size_t i = 0; i < d; ++i) {
      const float k = kv.key(seq, kv_head, t, static_cast<int>(i));
      s.kmin[b * d + i] = std::min(s.kmin[b * d + i], k);
      s.kmax[b * d + i] = std::max(s.kmax[b * d + i], k);
    }
  }
  return s;
}

Status block_upper_bounds(const BlockSummaries& summaries, std::span<const float> q, float scale,
                          std::span<float> bounds, std::optional<Isa> isa) {
  const std::int64_t blocks = summaries.blocks();
  if (q.size() != static_cast<std::size_t>(summaries.head_dim)) return Status::invalid("block_upper_bounds: q size");
  if (bounds.size() != static_cast<std::size_t>(blocks)) return Status::invalid("block_upper_bounds: bounds size");
  if (!(scale >= 0.0f) || !std::isfinite(scale)) return Status::invalid("block_upper_bounds: scale must be >= 0");
  Status status;
  const detail::KernelTable* table = detail::resolve_kernels(isa, status);
  if (!table) return status;
  detail::BlockBoundsArgs args{};
  args.kmin = summaries.kmin.data();
  args.kmax = summaries.kmax.data();
  args.q = q.data();
  args.blocks = blocks;
  args.head_dim = summaries.head_dim;
  args.scale = resolve_scale(scale, summaries.head_dim);
  args.bounds = bounds.data();
  table->block_bounds(args);
  return Status::success();
}

std::vector<std::int32_t> expand_blocks(std::span<const std::int32_t> blocks, int block_size, std::int64_t tokens) {
  std::vector<std::int32_t> sorted(blocks.begin(), blocks.end());
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());  // a position must not repeat
  std::vector<std::int32_t> out;
  for (const std::int32_t b : sorted) {
    const std::int64_t begin = std::int64_t{b} * block_size;
    const std::int64_t end = std::min(begin + block_size, tokens);
    for (std::int64_t t = begin; t < end; ++t) out.push_back(static_cast<std::int32_t>(t));
  }
  return out;
}

}  // namespace hgca::kernels
