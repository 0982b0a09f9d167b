#include "kernels/cpu/sparse_attention.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <string>
#include <vector>

#include "kernels/cpu/kernel_dispatch.hpp"

namespace hgca::kernels {
namespace {

using detail::kChunkTokens;
using detail::kPadFloats;

// A KV group's union is collected by a sweep over the context (ascending order) once its lists together
// hold at least 1/kDenseUnionRatio of the context's tokens. Measured (hgca_kernel_bench, batch 4, 32K, GQA
// 32/8, 2 threads, AVX2): at 10 % and 30 % per head the sweep reads 10-45 % faster than first-seen order; at
// 2 % (lists 8 % of the context) first-seen order was faster, hence 8 rather than a smaller ratio.
constexpr std::size_t kDenseUnionRatio = 8;
// ... and attended head by head when the lists hold fewer than kOverlapNum/kOverlapDen (1.5) entries per union
// row. Measured on the device's 16-core Xeon (2026-12-04, batch 16, 32K, GQA 32/8, random per-head lists):
// kv_group tasks at 1-10 % per head read 63-72 GB/s with the union against 95 GB/s head by head.
constexpr std::size_t kOverlapNum = 3;
constexpr std::size_t kOverlapDen = 2;

int padded_dim(int d) { return (d + kPadFloats - 1) / kPadFloats * kPadFloats; }

// Per-thread workspace, kept across calls (pool workers are persistent), so a warm decode step allocates
// nothing.
struct Workspace {
  std::vector<float> floats;
  std::vector<std::uint32_t> seen;  // per token: stamp of the last list that held it (repeat check)
  std::uint32_t stamp = 0;
  std::vector<std::int32_t> slot;   // per token: 1 + its position in the union; all zero between tasks
  std::vector<std::uint64_t> token_masks;  // per token: heads of the group attending it; all zero between tasks
  std::vector<std::int32_t> union_tokens;  // union of a group's lists, and who attends each token
  std::vector<std::uint64_t> union_masks;
};

Workspace& workspace() {
  thread_local Workspace w;
  return w;
}

// Everything a task needs, fixed for one call.
struct Problem {
  const KvStore& kv;
  int q_heads;
  int group;  // query heads per KV head
  int d;
  int dp;
  float scale;
  const float* q;
  float* out;
  float* lse;
  detail::GroupAttentionFn attend;
  bool adaptive_group_tasks = true;
};

// Runs query heads [kvh * group + g0, + heads) of sequence `seq` over the given positions.
void run_kernel(const Problem& P, int seq, int kvh, int g0, int heads, const std::int32_t* tokens,
                const std::uint64_t* masks, std::int64_t first, std::int64_t count) {
  Workspace& w = workspace();
  const std::size_t rows = static_cast<std::size_t>(heads) * static_cast<std::size_t>(P.dp);
  const std::size_t need = 2 * rows + static_cast<std::size_t>(P.dp) +
                           static_cast<std::size_t>(heads) * (kChunkTokens + 2);
  if (w.floats.size() < need) w.floats.resize(need);
  float* f = w.floats.data();
  detail::GroupScratch scratch{};
  scratch.q = f;
  scratch.acc = f + rows;
  scratch.row = f + 2 * rows;
  scratch.scores = scratch.row + P.dp;
  scratch.max = scratch.scores + static_cast<std::size_t>(heads) * kChunkTokens;
  scratch.sum = scratch.max + heads;

  const std::size_t row = static_cast<std::size_t>(seq) * static_cast<std::size_t>(P.q_heads) +
                          static_cast<std::size_t>(kvh) * static_cast<std::size_t>(P.group) +
                          static_cast<std::size_t>(g0);
  detail::GroupAttentionArgs args{};
  args.keys = P.kv.keys(seq, kvh);
  args.values = P.kv.values(seq, kvh);
  args.q = P.q + row * static_cast<std::size_t>(P.d);
  args.tokens = tokens;
  args.head_masks = masks;
  args.first = first;
  args.count = count;
  args.head_dim = P.d;
  args.padded_dim = P.dp;
  args.group = heads;
  args.scale = P.scale;
  args.out = P.out + row * static_cast<std::size_t>(P.d);
  args.lse = P.lse + row;
  args.scratch = scratch;
  P.attend(args);
}

// Index checks run inside the tasks (in parallel) rather than serially up front: they cost one pass over
// the indices, small next to the rows those indices fetch.
bool list_is_valid(Workspace& w, std::span<const std::int32_t> list, std::int64_t tokens) {
  if (w.seen.size() < static_cast<std::size_t>(tokens)) w.seen.resize(static_cast<std::size_t>(tokens), 0);
  if (++w.stamp == 0) {  // wrapped: old stamps could collide
    std::fill(w.seen.begin(), w.seen.end(), 0u);
    w.stamp = 1;
  }
  for (const std::int32_t t : list) {
    if (t < 0 || t >= tokens) return false;
    std::uint32_t& s = w.seen[static_cast<std::size_t>(t)];
    if (s == w.stamp) return false;
    s = w.stamp;
  }
  return true;
}

struct SparseCall {
  const Problem& P;
  TokenLists lists;
  std::atomic<std::int64_t>& bad_list;  // smallest invalid list number seen; INT64_MAX when none

  std::span<const std::int32_t> list(std::size_t r) const {
    const auto b = static_cast<std::size_t>(lists.offsets[r]);
    const auto e = static_cast<std::size_t>(lists.offsets[r + 1]);
    return lists.indices.subspan(b, e - b);
  }
  void report(std::int64_t r) const {
    std::int64_t cur = bad_list.load();
    while (r < cur && !bad_list.compare_exchange_weak(cur, r)) {
    }
  }

  void head_task(int seq, int h) const {
    const std::size_t r = static_cast<std::size_t>(seq) * static_cast<std::size_t>(P.q_heads) + static_cast<std::size_t>(h);
    const auto l = list(r);
    if (!list_is_valid(workspace(), l, P.kv.tokens(seq))) return report(static_cast<std::int64_t>(r));
    run_kernel(P, seq, h / P.group, h % P.group, 1, l.data(), nullptr, 0, static_cast<std::int64_t>(l.size()));
  }

  // Whether the lists of group (seq, kvh) would hold fewer than 1.5 entries per distinct token if they were
  // independent draws of their sizes: n (1 - prod (1 - s_h / n)) distinct. From the sizes alone, so the
  // check costs nothing next to the attention (a scan of the lists, or a mark per token of a 2M context, cost
  // hundreds of microseconds on the device). The simulator uses the same estimate.
  bool barely_overlapping(int seq, int kvh) const {
    const double n = static_cast<double>(P.kv.tokens(seq));
    if (n <= 0) return false;
    const std::size_t r0 = static_cast<std::size_t>(seq) * static_cast<std::size_t>(P.q_heads) +
                           static_cast<std::size_t>(kvh) * static_cast<std::size_t>(P.group);
    double listed = 0, miss = 1;
    for (int g = 0; g < P.group; ++g) {
      const double size = std::min(n, static_cast<double>(list(r0 + static_cast<std::size_t>(g)).size()));
      listed += size;
      miss *= 1.0 - size / n;
    }
    const double distinct = n * (1.0 - miss);
    return distinct > 0 && listed * kOverlapDen < distinct * kOverlapNum;
  }

  void group_task(int seq, int kvh) const {
    Workspace& w = workspace();
    const std::size_t r0 = static_cast<std::size_t>(seq) * static_cast<std::size_t>(P.q_heads) +
                           static_cast<std::size_t>(kvh) * static_cast<std::size_t>(P.group);
    const std::int64_t tokens = P.kv.tokens(seq);
    bool shared = true;  // every head of the group has the same list: no union, no masks
    for (int g = 0; g < P.group; ++g) {
      const auto l = list(r0 + static_cast<std::size_t>(g));
      if (!list_is_valid(w, l, tokens)) return report(static_cast<std::int64_t>(r0) + g);
      if (g > 0 && shared) shared = std::ranges::equal(l, list(r0));
    }
    w.union_tokens.clear();
    w.union_masks.clear();
    if (shared) {
      const auto l = list(r0);
      if (!P.adaptive_group_tasks || l.size() * kDenseUnionRatio < static_cast<std::size_t>(tokens)) {
        run_kernel(P, seq, kvh, 0, P.group, l.data(), nullptr, 0, static_cast<std::int64_t>(l.size()));
        return;
      }
      // A dense shared list: read its rows in ascending order (see below), every head attending every row.
      if (w.token_masks.size() < static_cast<std::size_t>(tokens)) w.token_masks.resize(static_cast<std::size_t>(tokens), 0);
      for (const std::int32_t t : l) w.token_masks[static_cast<std::size_t>(t)] = 1;
      for (std::int64_t t = 0; t < tokens; ++t) {
        std::uint64_t& m = w.token_masks[static_cast<std::size_t>(t)];
        if (m == 0) continue;
        w.union_tokens.push_back(static_cast<std::int32_t>(t));
        m = 0;
      }
      run_kernel(P, seq, kvh, 0, P.group, w.union_tokens.data(), nullptr, 0,
                 static_cast<std::int64_t>(w.union_tokens.size()));
      return;
    }
    // Union of the group's lists with one bit per head saying who attends each token.
    std::size_t listed = 0;
    for (int g = 0; g < P.group; ++g) listed += list(r0 + static_cast<std::size_t>(g)).size();
    if (P.adaptive_group_tasks && listed * kDenseUnionRatio >= static_cast<std::size_t>(tokens)) {
      // Dense selections (a few % of the context and up): collect the union in ascending token order by one
      // sweep over the context. Rows are then read nearly sequentially, which the hardware prefetcher follows;
      // in list order (random, or by score) every row is a cache miss of its own. The sweep costs one pass
      // over a per-token mask array, small next to reading the rows.
      if (w.token_masks.size() < static_cast<std::size_t>(tokens)) w.token_masks.resize(static_cast<std::size_t>(tokens), 0);
      for (int g = 0; g < P.group; ++g)
        for (const std::int32_t t : list(r0 + static_cast<std::size_t>(g))) w.token_masks[static_cast<std::size_t>(t)] |= 1ull << g;
      for (std::int64_t t = 0; t < tokens; ++t) {
        std::uint64_t& m = w.token_masks[static_cast<std::size_t>(t)];
        if (m == 0) continue;
        w.union_tokens.push_back(static_cast<std::int32_t>(t));
        w.union_masks.push_back(m);
        m = 0;
      }
    } else {
      // Sparse selections: first-seen order (each head's list keeps its own order), without touching the
      // whole context.
      if (w.slot.size() < static_cast<std::size_t>(tokens)) w.slot.resize(static_cast<std::size_t>(tokens), 0);
      for (int g = 0; g < P.group; ++g) {
        for (const std::int32_t t : list(r0 + static_cast<std::size_t>(g))) {
          std::int32_t& s = w.slot[static_cast<std::size_t>(t)];
          if (s == 0) {
            w.union_tokens.push_back(t);
            w.union_masks.push_back(0);
            s = static_cast<std::int32_t>(w.union_tokens.size());
          }
          w.union_masks[static_cast<std::size_t>(s - 1)] |= 1ull << g;
        }
      }
      for (const std::int32_t t : w.union_tokens) w.slot[static_cast<std::size_t>(t)] = 0;
    }
    if (P.adaptive_group_tasks && listed * kOverlapDen < w.union_tokens.size() * kOverlapNum) {
      // The heads' lists barely overlap (per-head selections of a few %): the union saves few reads, but every
      // union row would be accumulated into every head of the group (a head that did not select it weighs 0
      // there). Attend each head over its own list instead: as many reads, a group-th of the value FMAs.
      for (int g = 0; g < P.group; ++g) {
        const auto l = list(r0 + static_cast<std::size_t>(g));
        run_kernel(P, seq, kvh, g, 1, l.data(), nullptr, 0, static_cast<std::int64_t>(l.size()));
      }
      return;
    }
    run_kernel(P, seq, kvh, 0, P.group, w.union_tokens.data(), w.union_masks.data(), 0,
               static_cast<std::int64_t>(w.union_tokens.size()));
  }
};

template <class Fn>
void for_each_task(ThreadPool* pool, std::int64_t tasks, Partition partition, Fn&& fn) {
  if (pool == nullptr) {
    for (std::int64_t t = 0; t < tasks; ++t) fn(t);
    return;
  }
  pool->parallel_for(tasks, partition, [&](std::int64_t t, int) { fn(t); });
}

// The checks shared by both launchers. Sets `attend` and `scale` on success.
Status check_common(const KvStore& kv, int q_heads, std::span<const float> q, const AttentionOutput& result,
                    const AttentionOptions& options, detail::GroupAttentionFn& attend, float& scale) {
  const int kv_heads = kv.kv_heads();
  if (q_heads <= 0 || q_heads % kv_heads != 0)
    return Status::invalid("q_heads (" + std::to_string(q_heads) + ") must be a positive multiple of kv_heads (" +
                           std::to_string(kv_heads) + ")");
  const int group = q_heads / kv_heads;
  if (group > 64 && options.granularity != TaskGranularity::head)
    return Status::invalid("more than 64 query heads per KV head: use TaskGranularity::head");
  const std::size_t rows = static_cast<std::size_t>(kv.num_sequences()) * static_cast<std::size_t>(q_heads);
  const std::size_t d = static_cast<std::size_t>(kv.head_dim());
  if (q.size() != rows * d) return Status::invalid("q must hold sequences x q_heads x head_dim floats");
  if (result.out.size() != rows * d) return Status::invalid("out must hold sequences x q_heads x head_dim floats");
  if (result.lse.size() != rows) return Status::invalid("lse must hold sequences x q_heads floats");
  if (!std::isfinite(options.scale)) return Status::invalid("scale must be finite");
  scale = options.scale != 0.0f ? options.scale : 1.0f / std::sqrt(static_cast<float>(kv.head_dim()));
  Status status;
  const detail::KernelTable* table = detail::resolve_kernels(options.isa, status);
  if (!table) return status;
  attend = table->attend[static_cast<int>(kv.type())];
  return Status::success();
}

}  // namespace

const char* granularity_name(TaskGranularity g) {
  switch (g) {
    case TaskGranularity::head: return "head";
    case TaskGranularity::kv_group: return "kv_group";
    case TaskGranularity::sequence: return "sequence";
  }
  return "?";
}

Status sparse_attention(const KvStore& kv, int q_heads, std::span<const float> q, TokenLists lists,
                        AttentionOutput result, const AttentionOptions& options, ThreadPool* pool) {
  detail::GroupAttentionFn attend = nullptr;
  float scale = 0;
  if (Status s = check_common(kv, q_heads, q, result, options, attend, scale); !s.ok()) return s;
  const std::size_t rows = static_cast<std::size_t>(kv.num_sequences()) * static_cast<std::size_t>(q_heads);
  if (lists.offsets.size() != rows + 1) return Status::invalid("offsets must hold sequences x q_heads + 1 entries");
  if (lists.offsets[0] != 0 || static_cast<std::size_t>(lists.offsets[rows]) != lists.indices.size())
    return Status::invalid("offsets must start at 0 and end at indices.size()");
  for (std::size_t r = 0; r < rows; ++r)
    if (lists.offsets[r + 1] < lists.offsets[r]) return Status::invalid("offsets must not decrease");

  const Problem P{kv, q_heads, q_heads / kv.kv_heads(), kv.head_dim(), padded_dim(kv.head_dim()), scale,
                  q.data(), result.out.data(), result.lse.data(), attend, options.adaptive_group_tasks};
  std::atomic<std::int64_t> bad{INT64_MAX};
  const SparseCall call{P, lists, bad};
  const int S = kv.num_sequences(), H = q_heads, KV = kv.kv_heads();
  TaskGranularity granularity = options.granularity;
  // Per-head selections that barely overlap gain nothing from KV-group tasks (each group task would attend
  // its heads one by one anyway, see group_task): schedule head tasks, 4x more and shorter, which balance
  // better over the pool (device, 16 threads, 10 % per head: 54 GB/s as head tasks, 44 as group tasks).
  // Judged on the first and the last group; a mixed call keeps the per-group choice.
  if (granularity == TaskGranularity::kv_group && options.adaptive_group_tasks && P.group > 1 && S > 0 &&
      call.barely_overlapping(0, 0) && call.barely_overlapping(S - 1, KV - 1))
    granularity = TaskGranularity::head;
  switch (granularity) {
    case TaskGranularity::head:
      for_each_task(pool, std::int64_t{S} * H, options.partition,
                    [&](std::int64_t t) { call.head_task(static_cast<int>(t / H), static_cast<int>(t % H)); });
      break;
    case TaskGranularity::kv_group:
      for_each_task(pool, std::int64_t{S} * KV, options.partition,
                    [&](std::int64_t t) { call.group_task(static_cast<int>(t / KV), static_cast<int>(t % KV)); });
      break;
    case TaskGranularity::sequence:
      for_each_task(pool, S, options.partition, [&](std::int64_t t) {
        for (int kvh = 0; kvh < KV; ++kvh) call.group_task(static_cast<int>(t), kvh);
      });
      break;
  }
  if (const std::int64_t r = bad.load(); r != INT64_MAX)
    return Status::invalid("token list " + std::to_string(r) + " (sequence " + std::to_string(r / H) + ", head " +
                           std::to_string(r % H) + ") has an index out of range or repeated");
  return Status::success();
}

Status dense_attention(const KvStore& kv, int q_heads, std::span<const float> q, std::span<const TokenRange> ranges,
                       AttentionOutput result, const AttentionOptions& options, ThreadPool* pool) {
  detail::GroupAttentionFn attend = nullptr;
  float scale = 0;
  if (Status s = check_common(kv, q_heads, q, result, options, attend, scale); !s.ok()) return s;
  if (ranges.size() != static_cast<std::size_t>(kv.num_sequences()))
    return Status::invalid("ranges must hold one range per sequence");
  for (int s = 0; s < kv.num_sequences(); ++s) {
    const TokenRange r = ranges[static_cast<std::size_t>(s)];
    if (r.begin < 0 || r.begin > r.end || r.end > kv.tokens(s))
      return Status::invalid("range of sequence " + std::to_string(s) + " is outside [0, tokens]");
  }
  const Problem P{kv, q_heads, q_heads / kv.kv_heads(), kv.head_dim(), padded_dim(kv.head_dim()), scale,
                  q.data(), result.out.data(), result.lse.data(), attend};
  const int S = kv.num_sequences(), H = q_heads, KV = kv.kv_heads(), G = P.group;
  auto range_task = [&](int seq, int kvh, int g0, int heads) {
    const TokenRange r = ranges[static_cast<std::size_t>(seq)];
    run_kernel(P, seq, kvh, g0, heads, nullptr, nullptr, r.begin, r.end - r.begin);
  };
  switch (options.granularity) {
    case TaskGranularity::head:
      for_each_task(pool, std::int64_t{S} * H, options.partition, [&](std::int64_t t) {
        const int h = static_cast<int>(t % H);
        range_task(static_cast<int>(t / H), h / G, h % G, 1);
      });
      break;
    case TaskGranularity::kv_group:
      for_each_task(pool, std::int64_t{S} * KV, options.partition, [&](std::int64_t t) {
        range_task(static_cast<int>(t / KV), static_cast<int>(t % KV), 0, G);
      });
      break;
    case TaskGranularity::sequence:
      for_each_task(pool, S, options.partition, [&](std::int64_t t) {
        for (int kvh = 0; kvh < KV; ++kvh) range_task(static_cast<int>(t), kvh, 0, G);
      });
      break;
  }
  return Status::success();
}

}  // namespace hgca::kernels
