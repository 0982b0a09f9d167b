// The contract between the ISA-independent launchers and the per-ISA kernels.
//
// Each path (scalar, AVX2, AVX-512) fills one KernelTable with functions of exactly these signatures; the
// scalar twin of every SIMD kernel is the entry of the same name in the scalar table. Arguments arrive
// already checked (the launchers check once, at the public boundary).
//
// Why this header holds only plain aggregates and declarations: the SIMD translation units are compiled
// with -mavx2/-mavx512* and include it. Any inline function or template with external linkage that they
// instantiated would be emitted in their object files compiled with those flags, and the linker keeps one
// copy of it for the whole program, so a scalar caller on an older CPU could end up running AVX-512 code.
// Hence the SIMD files include only <immintrin.h>, <cstdint>/<cstddef> and this header, keep their code in
// an anonymous namespace, and export one function each.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cpu/kv_types.hpp"

namespace hgca::kernels::detail {

// Tokens per online-softmax step: scores of a chunk are computed, then one rescale of the accumulators per
// chunk (not per token), then the value rows are added.
inline constexpr int kChunkTokens = 64;
// Scratch rows are padded to a multiple of 16 floats (one AVX-512 vector), zero beyond head_dim, so the
// inner loops need no tail handling except when reading the caller's KV rows.
inline constexpr int kPadFloats = 16;

struct GroupScratch {
  float* q;       // [group x padded_dim]   query rows, copied in by the kernel, zero-padded
  float* acc;     // [group x padded_dim]   unnormalized outputs
  float* row;     // [padded_dim]           one K or V row widened to fp32 (scalar path)
  float* scores;  // [group x kChunkTokens] scores, then probabilities, of the current chunk
  float* max;     // [group]
  float* sum;     // [group]
};

// One task: `group` query heads that share one KV head (group = 1 for a single head). Positions are either a
// list (`tokens`, with `head_masks[j]` bit g set when query head g attends tokens[j]; null masks = all heads
// attend every listed token) or, when `tokens` is null, the contiguous range [first, first + count).
struct GroupAttentionArgs {
  const std::byte* keys;    // row-major [tokens x head_dim] of the KV element type
  const std::byte* values;
  const float* q;           // [group x head_dim]
  const std::int32_t* tokens;
  const std::uint64_t* head_masks;
  std::int64_t first;
  std::int64_t count;
  int head_dim;
  int padded_dim;           // head_dim rounded up to kPadFloats
  int group;                // 1..64
  float scale;
  float* out;               // [group x head_dim] normalized; zeros for a head with no position
  float* lse;               // [group] natural log; -inf for a head with no position
  GroupScratch scratch;
};

// scores[g * count + t] = scale * q_g . k_t for every key t in [0, count) and every query head g of a group.
struct ScoreKeysArgs {
  const std::byte* keys;
  const float* q;           // [group x head_dim]
  std::int64_t count;
  int head_dim;
  int padded_dim;
  int group;
  float scale;
  float* scores;            // [group x count]
  float* q_scratch;         // [group x padded_dim]
  float* row_scratch;       // [padded_dim] (scalar path)
};

// bounds[b] = scale * sum_i max(q_i * kmin[b][i], q_i * kmax[b][i]) >= scale * q . k for every k in block b
// (scale > 0). kmin/kmax: [blocks x head_dim] fp32.
struct BlockBoundsArgs {
  const float* kmin;
  const float* kmax;
  const float* q;
  std::int64_t blocks;
  int head_dim;
  float scale;
  float* bounds;
};

// y[i] = exp(x[i]) for the softmax; the SIMD paths use their own polynomial, so it is tested on its own.
// Accurate to a few ulp for x in [-87.3, 0]; below ln(2^-126) (about -87.34) the result is 0 or subnormal
// (SIMD paths flush to exactly 0), and exp(-inf) = 0.
using ExpFn = void (*)(const float* x, float* y, std::int64_t n);
using GroupAttentionFn = void (*)(const GroupAttentionArgs&);
using ScoreKeysFn = void (*)(const ScoreKeysArgs&);
using BlockBoundsFn = void (*)(const BlockBoundsArgs&);

struct KernelTable {
  GroupAttentionFn attend[kKvTypeCount];  // indexed by KvType
  ScoreKeysFn score_keys[kKvTypeCount];
  BlockBoundsFn block_bounds;
  ExpFn exp;
};

// One per translation unit; null when the path is not compiled into this build.
const KernelTable* scalar_kernel_table();
const KernelTable* avx2_kernel_table();
const KernelTable* avx512_kernel_table();

}  // namespace hgca::kernels::detail
