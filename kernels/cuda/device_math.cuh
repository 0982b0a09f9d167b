// Device helpers shared by the kernels of kernels/cuda: 16-byte streaming loads, 16-bit to fp32 widening,
// fast exp2, and the warp-level n-way merge of normalized partial results (split-K combine and the
// GPU + CPU merge are the same arithmetic, so it lives here once).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

namespace hgca::kernels::cuda::detail {

constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

// 16 bytes, read once: bypass L1 (no reuse), keep the read-only path.
__device__ __forceinline__ uint4 load_stream16(const void* p) {
  uint4 r;
  asm("ld.global.nc.L1::no_allocate.v4.u32 {%0, %1, %2, %3}, [%4];"
      : "=r"(r.x), "=r"(r.y), "=r"(r.z), "=r"(r.w)
      : "l"(p));
  return r;
}

// 2^x with the hardware approximation (about 2 ulp); ex2(-inf) = +0.
__device__ __forceinline__ float ex2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}

// Eight 16-bit values (one 16-byte load) widened to fp32, exactly.
template <class T>
__device__ __forceinline__ void widen8(const uint4& v, float (&f)[8]);

template <>
__device__ __forceinline__ void widen8<__half>(const uint4& v, float (&f)[8]) {
  const uint32_t w[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    __half2 h;
    static_assert(sizeof(h) == 4);
    memcpy(&h, &w[i], 4);
    const float2 x = __half22float2(h);
    f[2 * i] = x.x;
    f[2 * i + 1] = x.y;
  }
}

template <>
__device__ __forceinline__ void widen8<__nv_bfloat16>(const uint4& v, float (&f)[8]) {
  const uint32_t w[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    f[2 * i] = __uint_as_float(w[i] << 16);
    f[2 * i + 1] = __uint_as_float(w[i] & 0xFFFF0000u);
  }
}

// One warp merges n normalized parts of one row: part s has natural-log lse_of(s) and output out_of(s, d).
// Writes out[d] for d in [0, head_dim) and *lse (lane 0). Parts with lse = -inf weigh nothing; if every part
// is empty the row is out = 0, lse = -inf. Accurate expf/logf: this runs once per row, not per KV row.
template <class LseOf, class OutOf>
__device__ void merge_parts_warp(int n, int head_dim, LseOf lse_of, OutOf out_of, float* out, float* lse) {
  const int lane = static_cast<int>(threadIdx.x) & 31;
  float m = -INFINITY;
  for (int s = 0; s < n; ++s) m = fmaxf(m, lse_of(s));
  if (m == -INFINITY) {
    for (int d = lane; d < head_dim; d += 32) out[d] = 0.0f;
    if (lane == 0) *lse = -INFINITY;
    return;
  }
  float l = 0.0f;
  for (int s = 0; s < n; ++s) l += expf(lse_of(s) - m);
  const float inv = 1.0f / l;
  for (int d = lane; d < head_dim; d += 32) {
    float acc = 0.0f;
    for (int s = 0; s < n; ++s) {
      const float w = expf(lse_of(s) - m);
      if (w != 0.0f) acc += w * out_of(s, d);  // an empty part's output is never read into the sum
    }
    out[d] = acc * inv;
  }
  if (lane == 0) *lse = m + logf(l);
}

}  // namespace hgca::kernels::cuda::detail
