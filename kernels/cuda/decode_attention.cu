#include "kernels/cuda/decode_attention.hpp"

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/device_math.cuh"

namespace hgca::kernels::cuda {

namespace {

using detail::ex2;
using detail::kLn2;
using detail::kLog2e;

struct SplitParams {
  const char* k;
  const char* v;
  const std::int32_t* lengths;
  const float* q;
  float* out;       // final output (one split) or split partials [rows][splits][head_dim]
  float* lse;       // final lse (one split) or split partial lse [rows][splits]
  std::int64_t capacity;
  std::int64_t rows_per_split;
  int kv_heads;
  int q_heads;
  int splits;
  float qscale;     // scale * log2(e): scores are kept in base 2 inside the kernel
};

// One CTA = one (sequence, KV head) pair (blockIdx.y) and one split of its rows (blockIdx.x).
// A row of D 16-bit elements is D/8 lanes x 16 bytes; a warp covers RPW = 32 / (D/8) rows per load, each group
// of D/8 lanes ("sub-group") owning its own rows and its own online-softmax state for the G query heads.
// Every thread issues UNROLL K loads and UNROLL V loads before it uses the first, so several 16-byte reads per
// thread are in flight. At the end the sub-groups merge by shuffles, the warps through shared memory.
template <class T, int D, int G, int UNROLL>
__global__ void __launch_bounds__(256) decode_split_kernel(SplitParams p) {
  constexpr int LPR = D / 8;
  constexpr int RPW = 32 / LPR;
  constexpr int TILE = RPW * UNROLL;
  constexpr std::size_t kRowBytes = static_cast<std::size_t>(D) * 2;
  const int warps = static_cast<int>(blockDim.x) / 32;
  const int warp = static_cast<int>(threadIdx.x) / 32;
  const int lane = static_cast<int>(threadIdx.x) & 31;
  const int sub = lane / LPR;
  const int sl = lane % LPR;
  const int pair = static_cast<int>(blockIdx.y);
  const int b = pair / p.kv_heads;
  const int kvh = pair % p.kv_heads;
  const int split = static_cast<int>(blockIdx.x);
  const std::int64_t len = p.lengths[b];
  const std::int64_t row0 = static_cast<std::int64_t>(split) * p.rows_per_split;
  const std::int64_t row1 = min(row0 + p.rows_per_split, len);

  float q[G][8];
  const std::size_t qrow0 = static_cast<std::size_t>(b) * p.q_heads + static_cast<std::size_t>(kvh) * G;
#pragma unroll
  for (int g = 0; g < G; ++g) {
    const float4* qp = reinterpret_cast<const float4*>(p.q + (qrow0 + g) * D + sl * 8);
    const float4 a = qp[0], c = qp[1];
    q[g][0] = a.x * p.qscale, q[g][1] = a.y * p.qscale, q[g][2] = a.z * p.qscale, q[g][3] = a.w * p.qscale;
    q[g][4] = c.x * p.qscale, q[g][5] = c.y * p.qscale, q[g][6] = c.z * p.qscale, q[g][7] = c.w * p.qscale;
  }

  float m[G], l[G], acc[G][8];
#pragma unroll
  for (int g = 0; g < G; ++g) {
    m[g] = -INFINITY;
    l[g] = 0.0f;
#pragma unroll
    for (int j = 0; j < 8; ++j) acc[g][j] = 0.0f;
  }

  const std::size_t block = static_cast<std::size_t>(pair) * static_cast<std::size_t>(p.capacity) * kRowBytes;
  const char* kb = p.k + block + sl * 16;
  const char* vb = p.v + block + sl * 16;

  for (std::int64_t t0 = row0 + static_cast<std::int64_t>(warp) * TILE; t0 < row1;
       t0 += static_cast<std::int64_t>(warps) * TILE) {
    uint4 kr[UNROLL], vr[UNROLL];
#pragma unroll
    for (int u = 0; u < UNROLL; ++u) {
      const std::int64_t r = t0 + u * RPW + sub;
      if (r < row1) {
        kr[u] = detail::load_stream16(kb + static_cast<std::size_t>(r) * kRowBytes);
        vr[u] = detail::load_stream16(vb + static_cast<std::size_t>(r) * kRowBytes);
      } else {
        kr[u] = make_uint4(0, 0, 0, 0);
        vr[u] = make_uint4(0, 0, 0, 0);
      }
    }
    float s[G][UNROLL];
#pragma unroll
    for (int u = 0; u < UNROLL; ++u) {
      float kf[8];
      detail::widen8<T>(kr[u], kf);
#pragma unroll
      for (int g = 0; g < G; ++g) {
        float x = 0.0f;
#pragma unroll
        for (int j = 0; j < 8; ++j) x = fmaf(q[g][j], kf[j], x);
        s[g][u] = x;
      }
    }
#pragma unroll
    for (int off = LPR / 2; off > 0; off /= 2)
#pragma unroll
      for (int g = 0; g < G; ++g)
#pragma unroll
        for (int u = 0; u < UNROLL; ++u) s[g][u] += __shfl_xor_sync(0xFFFFFFFFu, s[g][u], off);
#pragma unroll
    for (int u = 0; u < UNROLL; ++u)
      if (t0 + u * RPW + sub >= row1)
#pragma unroll
        for (int g = 0; g < G; ++g) s[g][u] = -INFINITY;

    // Online softmax: one rescale per head per tile. A sub-group that has seen only masked rows keeps
    // max = -inf; its reference point is then 0 so that no exp(-inf - -inf) is evaluated.
#pragma unroll
    for (int g = 0; g < G; ++g) {
      float mx = m[g];
#pragma unroll
      for (int u = 0; u < UNROLL; ++u) mx = fmaxf(mx, s[g][u]);
      const float ref = mx == -INFINITY ? 0.0f : mx;
      const float alpha = ex2(m[g] - ref);
      float sum = 0.0f;
#pragma unroll
      for (int u = 0; u < UNROLL; ++u) {
        s[g][u] = ex2(s[g][u] - ref);  // from here on s holds the weights
        sum += s[g][u];
      }
      l[g] = l[g] * alpha + sum;
      m[g] = mx;
#pragma unroll
      for (int j = 0; j < 8; ++j) acc[g][j] *= alpha;
    }
#pragma unroll
    for (int u = 0; u < UNROLL; ++u) {
      float vf[8];
      detail::widen8<T>(vr[u], vf);
#pragma unroll
      for (int g = 0; g < G; ++g)
#pragma unroll
        for (int j = 0; j < 8; ++j) acc[g][j] = fmaf(s[g][u], vf[j], acc[g][j]);
    }
  }

  // Merge the RPW sub-groups of the warp (lanes sl, sl + LPR, ... hold the same elements).
#pragma unroll
  for (int off = LPR; off < 32; off *= 2) {
#pragma unroll
    for (int g = 0; g < G; ++g) {
      const float om = __shfl_xor_sync(0xFFFFFFFFu, m[g], off);
      const float ol = __shfl_xor_sync(0xFFFFFFFFu, l[g], off);
      const float nm = fmaxf(m[g], om);
      const float ref = nm == -INFINITY ? 0.0f : nm;
      const float a = ex2(m[g] - ref), c = ex2(om - ref);
      l[g] = l[g] * a + ol * c;
      m[g] = nm;
#pragma unroll
      for (int j = 0; j < 8; ++j) {
        const float oa = __shfl_xor_sync(0xFFFFFFFFu, acc[g][j], off);
        acc[g][j] = acc[g][j] * a + oa * c;
      }
    }
  }

  // Merge the warps: shared memory holds [warps][G] max and sum, then [warps][G][D] accumulators.
  extern __shared__ float smem[];
  float* sm_m = smem;
  float* sm_l = sm_m + warps * G;
  float* sm_acc = sm_l + warps * G;
  if (sub == 0) {
#pragma unroll
    for (int g = 0; g < G; ++g) {
      if (sl == 0) {
        sm_m[warp * G + g] = m[g];
        sm_l[warp * G + g] = l[g];
      }
#pragma unroll
      for (int j = 0; j < 8; ++j) sm_acc[(warp * G + g) * D + sl * 8 + j] = acc[g][j];
    }
  }
  __syncthreads();
  for (int idx = static_cast<int>(threadIdx.x); idx < G * D; idx += static_cast<int>(blockDim.x)) {
    const int g = idx / D, d = idx % D;
    float mx = -INFINITY;
    for (int w = 0; w < warps; ++w) mx = fmaxf(mx, sm_m[w * G + g]);
    const float ref = mx == -INFINITY ? 0.0f : mx;
    float sum = 0.0f, o = 0.0f;
    for (int w = 0; w < warps; ++w) {
      const float a = ex2(sm_m[w * G + g] - ref);
      sum += sm_l[w * G + g] * a;
      o += sm_acc[(w * G + g) * D + d] * a;
    }
    const float value = sum > 0.0f ? o / sum : 0.0f;
    const float lse = sum > 0.0f ? (mx + log2f(sum)) * kLn2 : -INFINITY;
    const std::size_t row = qrow0 + g;
    if (p.splits == 1) {
      p.out[row * D + d] = value;
      if (d == 0) p.lse[row] = lse;
    } else {
      const std::size_t part = row * p.splits + split;
      p.out[part * D + d] = value;
      if (d == 0) p.lse[part] = lse;
    }
  }
}

// One CTA of kCombineThreads per output row merges that row's split partials: the split weights
// exp(lse_s - max) go to shared memory once, then the threads split into D/4 float4 columns x P phases,
// phase p summing splits p, p + P, ..., with independent 16-byte loads, and the phases are added at the end.
// Every split's partial was written by the split kernel (zeros for an empty split), so loads need no guard.
constexpr int kCombineThreads = 128;
constexpr int kMaxSplits = 1024;

__device__ float block_reduce(float x, bool is_max, float* scratch) {
#pragma unroll
  for (int off = 16; off > 0; off /= 2) {
    const float o = __shfl_xor_sync(0xFFFFFFFFu, x, off);
    x = is_max ? fmaxf(x, o) : x + o;
  }
  const int warp = static_cast<int>(threadIdx.x) / 32;
  __syncthreads();  // scratch may still be read from a previous reduction
  if ((threadIdx.x & 31) == 0) scratch[warp] = x;
  __syncthreads();
  x = scratch[0];
  for (int w = 1; w < kCombineThreads / 32; ++w) x = is_max ? fmaxf(x, scratch[w]) : x + scratch[w];
  return x;
}

__global__ void __launch_bounds__(kCombineThreads)
    combine_splits_kernel(const float* part_out, const float* part_lse, int splits, int head_dim, float* out,
                          float* lse) {
  __shared__ float weight[kMaxSplits];
  __shared__ float scratch[kCombineThreads / 32];
  __shared__ float4 partial[kCombineThreads];
  const int tid = static_cast<int>(threadIdx.x);
  const std::size_t row = blockIdx.x;
  const float* lp = part_lse + row * splits;
  float m = -INFINITY;
  for (int s = tid; s < splits; s += kCombineThreads) m = fmaxf(m, lp[s]);
  m = block_reduce(m, true, scratch);
  float* o = out + row * head_dim;
  if (m == -INFINITY) {  // every split empty
    for (int d = tid; d < head_dim; d += kCombineThreads) o[d] = 0.0f;
    if (tid == 0) lse[row] = -INFINITY;
    return;
  }
  float l = 0.0f;
  for (int s = tid; s < splits; s += kCombineThreads) {
    const float w = expf(lp[s] - m);
    weight[s] = w;
    l += w;
  }
  l = block_reduce(l, false, scratch);  // its barriers also publish weight[]
  const int cols = head_dim / 4;
  const int phases = kCombineThreads / cols;
  const int col = tid % cols, phase = tid / cols;
  float4 acc = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
  if (phase < phases) {
    const float4* po = reinterpret_cast<const float4*>(part_out + row * splits * head_dim) + col;
#pragma unroll 4
    for (int s = phase; s < splits; s += phases) {
      const float w = weight[s];
      const float4 x = po[static_cast<std::size_t>(s) * cols];
      acc.x = fmaf(w, x.x, acc.x);
      acc.y = fmaf(w, x.y, acc.y);
      acc.z = fmaf(w, x.z, acc.z);
      acc.w = fmaf(w, x.w, acc.w);
    }
  }
  partial[tid] = acc;
  __syncthreads();
  if (phase == 0) {
    for (int p = 1; p < phases; ++p) {
      const float4 x = partial[p * cols + col];
      acc.x += x.x, acc.y += x.y, acc.z += x.z, acc.w += x.w;
    }
    const float inv = 1.0f / l;
    reinterpret_cast<float4*>(o)[col] = make_float4(acc.x * inv, acc.y * inv, acc.z * inv, acc.w * inv);
  }
  if (tid == 0) lse[row] = m + logf(l);
}

using SplitKernel = void (*)(SplitParams);

template <class T, int D, int G>
SplitKernel pick_unroll(int unroll) {
  return unroll == 8 ? decode_split_kernel<T, D, G, 8> : decode_split_kernel<T, D, G, 4>;
}
template <class T, int D>
SplitKernel pick_group(int group, int unroll) {
  switch (group) {
    case 1: return pick_unroll<T, D, 1>(unroll);
    case 2: return pick_unroll<T, D, 2>(unroll);
    case 4: return pick_unroll<T, D, 4>(unroll);
    case 8: return pick_unroll<T, D, 8>(unroll);
  }
  return nullptr;
}
template <class T>
SplitKernel pick_dim(int head_dim, int group, int unroll) {
  switch (head_dim) {
    case 64: return pick_group<T, 64>(group, unroll);
    case 128: return pick_group<T, 128>(group, unroll);
    case 256: return pick_group<T, 256>(group, unroll);
  }
  return nullptr;
}
SplitKernel pick_kernel(KvType type, int head_dim, int group, int unroll) {
  if (type == KvType::f16) return pick_dim<__half>(head_dim, group, unroll);
  if (type == KvType::bf16) return pick_dim<__nv_bfloat16>(head_dim, group, unroll);
  return nullptr;
}

std::size_t shared_bytes(int warps, int group, int head_dim) {
  return static_cast<std::size_t>(warps) * group * (head_dim + 2) * sizeof(float);
}

}  // namespace

Status plan_decode_attention(const WindowShape& shape, int q_heads, const DecodeConfig& config, int sm_count,
                             DecodePlan* plan) {
  if (shape.type != KvType::f16 && shape.type != KvType::bf16)
    return Status::unsupported(std::string("decode_attention: KV type ") + kv_type_name(shape.type) +
                               " (GPU window is fp16 or bf16)");
  if (shape.batch <= 0 || shape.kv_heads <= 0 || q_heads <= 0 || shape.capacity < 0)
    return Status::invalid("decode_attention: batch, kv_heads and q_heads must be positive, capacity >= 0");
  if (q_heads % shape.kv_heads != 0)
    return Status::invalid("decode_attention: q_heads (" + std::to_string(q_heads) +
                           ") must be a multiple of kv_heads (" + std::to_string(shape.kv_heads) + ")");
  const int group = q_heads / shape.kv_heads;
  if (group != 1 && group != 2 && group != 4 && group != 8)
    return Status::unsupported("decode_attention: GQA group size " + std::to_string(group) + " (supported: 1, 2, 4, 8)");
  if (shape.head_dim != 64 && shape.head_dim != 128 && shape.head_dim != 256)
    return Status::unsupported("decode_attention: head_dim " + std::to_string(shape.head_dim) +
                               " (supported: 64, 128, 256)");
  if (static_cast<long long>(shape.batch) * shape.kv_heads > 65535)
    return Status::unsupported("decode_attention: batch x kv_heads above 65535");
  if (config.warps != 1 && config.warps != 2 && config.warps != 4 && config.warps != 8)
    return Status::invalid("decode_attention: warps must be 1, 2, 4 or 8");
  if (config.unroll != 4 && config.unroll != 8) return Status::invalid("decode_attention: unroll must be 4 or 8");
  if (config.splits < 0 || config.splits > kMaxSplits || config.ctas_per_sm < 0 || config.min_rows_per_split <= 0 ||
      !(config.scale >= 0.0f))
    return Status::invalid("decode_attention: splits in [0, 1024], ctas_per_sm >= 0, min_rows_per_split > 0, scale >= 0");
  if (sm_count <= 0) return Status::invalid("decode_attention: sm_count must be positive");

  const std::int64_t pairs = static_cast<std::int64_t>(shape.batch) * shape.kv_heads;
  const std::int64_t cap = std::max<std::int64_t>(shape.capacity, 1);
  // Rows per split: a whole number of 64-row blocks (every warp tile size divides 64), no empty split.
  auto rows_for = [&](std::int64_t s) { return ((cap + s - 1) / s + 63) / 64 * 64; };
  int ctas_per_sm = config.ctas_per_sm;
  if (ctas_per_sm == 0) {
    ctas_per_sm = 3;  // what the default kernel (fp16, d128, group 4, 4 warps) reaches on sm_90
    int n = 0;
    const SplitKernel k = pick_kernel(shape.type, shape.head_dim, group, config.unroll);
    if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, k, config.warps * 32,
                                                      shared_bytes(config.warps, group, shape.head_dim)) ==
            cudaSuccess &&
        n > 0)
      ctas_per_sm = n;
    else
      cudaGetLastError();  // no device: keep the estimate
  }
  std::int64_t splits = config.splits;
  if (splits == 0) {
    // Makespan in rows: waves of CTAs x (rows per CTA + a fixed cost of about 64 rows per CTA: loading the
    // queries, merging warps, writing the partials), plus a combine pass worth about 64 rows. Measured on
    // an H100 (docs/KERNELS.md), the fixed cost is what makes 16 splits of 256 rows lose to 3 of 1408.
    const std::int64_t slots = static_cast<std::int64_t>(sm_count) * ctas_per_sm;
    const std::int64_t most = std::clamp<std::int64_t>(cap / config.min_rows_per_split, 1, kMaxSplits);
    std::int64_t best_cost = -1;
    for (std::int64_t s = 1; s <= most; ++s) {
      const std::int64_t rows = rows_for(s);
      const std::int64_t used = (cap + rows - 1) / rows;
      const std::int64_t cost = (pairs * used + slots - 1) / slots * (rows + 64) + (used > 1 ? 64 : 0);
      if (best_cost < 0 || cost < best_cost) {
        best_cost = cost;
        splits = used;
      }
    }
  }
  splits = std::clamp<std::int64_t>(splits, 1, std::min<std::int64_t>(cap, kMaxSplits));
  const std::int64_t rows = rows_for(splits);
  splits = (cap + rows - 1) / rows;

  DecodePlan p;
  p.splits = static_cast<int>(splits);
  p.rows_per_split = rows;
  p.ctas_per_sm = ctas_per_sm;
  p.warps = config.warps;
  p.unroll = config.unroll;
  p.scale = config.scale > 0.0f ? config.scale : 1.0f / std::sqrt(static_cast<float>(shape.head_dim));
  const std::size_t out_rows = static_cast<std::size_t>(shape.batch) * static_cast<std::size_t>(q_heads);
  p.workspace_bytes = p.splits == 1 ? 0
                                    : out_rows * static_cast<std::size_t>(p.splits) *
                                          (static_cast<std::size_t>(shape.head_dim) + 1) * sizeof(float);
  *plan = p;
  return Status::success();
}

Status decode_attention(const DecodeArgs& a, const DecodePlan& plan, GpuStream stream) {
  const WindowShape& s = a.kv.shape;
  if (!a.kv.k || !a.kv.v || !a.kv.lengths || !a.q || !a.out || !a.lse)
    return Status::invalid("decode_attention: null device pointer");
  if (plan.splits > 1 && !a.workspace) return Status::invalid("decode_attention: the plan needs a workspace");
  if (plan.splits < 1 || plan.splits > kMaxSplits || plan.rows_per_split <= 0 || static_cast<std::int64_t>(plan.splits) * plan.rows_per_split < s.capacity)
    return Status::invalid("decode_attention: the plan does not cover the window's capacity");
  if (a.q_heads <= 0 || s.kv_heads <= 0 || a.q_heads % s.kv_heads != 0)
    return Status::invalid("decode_attention: q_heads must be a positive multiple of kv_heads");
  const int group = a.q_heads / s.kv_heads;
  const SplitKernel kernel = pick_kernel(s.type, s.head_dim, group, plan.unroll);
  if (!kernel) return Status::unsupported("decode_attention: shape not planned (call plan_decode_attention)");

  const std::size_t out_rows = static_cast<std::size_t>(s.batch) * static_cast<std::size_t>(a.q_heads);
  float* part_out = static_cast<float*>(a.workspace);
  float* part_lse = part_out ? part_out + out_rows * static_cast<std::size_t>(plan.splits) * s.head_dim : nullptr;

  SplitParams p;
  p.k = static_cast<const char*>(a.kv.k);
  p.v = static_cast<const char*>(a.kv.v);
  p.lengths = a.kv.lengths;
  p.q = a.q;
  p.out = plan.splits == 1 ? a.out : part_out;
  p.lse = plan.splits == 1 ? a.lse : part_lse;
  p.capacity = s.capacity;
  p.rows_per_split = plan.rows_per_split;
  p.kv_heads = s.kv_heads;
  p.q_heads = a.q_heads;
  p.splits = plan.splits;
  p.qscale = plan.scale * kLog2e;

  const std::size_t smem = shared_bytes(plan.warps, group, s.head_dim);
  if (smem > 48 * 1024) {
    const cudaError_t e =
        cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem));
    if (e != cudaSuccess) return Status::unsupported(detail::cuda_message(e, "decode_attention: shared memory"));
  }
  const dim3 grid(static_cast<unsigned>(plan.splits), static_cast<unsigned>(s.batch * s.kv_heads));
  kernel<<<grid, static_cast<unsigned>(plan.warps * 32), smem, stream>>>(p);
  if (Status st = detail::launch_status("decode_attention"); !st.ok()) return st;
  if (plan.splits > 1) {
    if (out_rows > 0x7FFFFFFFu) return Status::unsupported("decode_attention: too many output rows");
    combine_splits_kernel<<<static_cast<unsigned>(out_rows), kCombineThreads, 0, stream>>>(
        part_out, part_lse, plan.splits, s.head_dim, a.out, a.lse);
    return detail::launch_status("decode_attention (combine)");
  }
  return Status::success();
}

}  // namespace hgca::kernels::cuda
