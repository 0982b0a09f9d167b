#include "kernels/hybrid/model_step_kernels.hpp"

#include <cuda_fp16.h>

#include "kernels/cuda/cuda_check.cuh"

namespace hgca::kernels::hybrid {

namespace {

__device__ std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

__global__ void fill_kernel(__half* dst, std::size_t n, std::uint64_t seed, float scale) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const std::uint64_t z = mix64(seed * 0x9E3779B97F4A7C15ull + i);
    const float u = static_cast<float>(z >> 40) * (2.0f / 16777216.0f) - 1.0f;
    dst[i] = __float2half(u * scale);
  }
}

// One block per token row; blockDim.x threads stride over the row.
__global__ void rms_norm_kernel(const __half* x, const __half* w, __half* y, int hidden) {
  const __half* xr = x + static_cast<std::size_t>(blockIdx.x) * hidden;
  __half* yr = y + static_cast<std::size_t>(blockIdx.x) * hidden;
  float ss = 0;
  for (int i = threadIdx.x; i < hidden; i += blockDim.x) {
    const float v = __half2float(xr[i]);
    ss += v * v;
  }
  __shared__ float part[32];
  for (int o = 16; o > 0; o >>= 1) ss += __shfl_xor_sync(0xffffffffu, ss, o);
  if ((threadIdx.x & 31) == 0) part[threadIdx.x / 32] = ss;
  __syncthreads();
  if (threadIdx.x < 32) {
    float v = threadIdx.x < blockDim.x / 32 ? part[threadIdx.x] : 0.0f;
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    if (threadIdx.x == 0) part[0] = v;
  }
  __syncthreads();
  const float inv = rsqrtf(part[0] / hidden + 1e-5f);
  for (int i = threadIdx.x; i < hidden; i += blockDim.x)
    yr[i] = __float2half(__half2float(xr[i]) * inv * __half2float(w[i]));
}

// One block per (token, head of q, k or v); threads over head_dim / 2 pairs.
__global__ void rope_append_kernel(__half* qkv, __half* kv_out, int q_heads, int kv_heads, int head_dim,
                                   std::int64_t position) {
  const int heads = q_heads + 2 * kv_heads;
  const int token = blockIdx.x / heads, h = blockIdx.x % heads;
  __half* row = qkv + (static_cast<std::size_t>(token) * heads + h) * head_dim;
  const int half_dim = head_dim / 2;
  for (int i = threadIdx.x; i < half_dim; i += blockDim.x) {
    float a = __half2float(row[i]), b = __half2float(row[i + half_dim]);
    if (h < q_heads + kv_heads) {  // q and k heads rotate
      const float freq = powf(500000.0f, -2.0f * i / head_dim);
      float s, c;
      sincosf(static_cast<float>(position) * freq, &s, &c);
      const float ra = a * c - b * s, rb = b * c + a * s;
      a = ra;
      b = rb;
      row[i] = __float2half(a);
      row[i + half_dim] = __float2half(b);
    }
    if (h >= q_heads) {  // k or v head: append to the cache
      const int which = h < q_heads + kv_heads ? 0 : 1, kvh = (h - q_heads) % kv_heads;
      __half* dst = kv_out + ((static_cast<std::size_t>(token) * 2 + which) * kv_heads + kvh) * head_dim;
      dst[i] = __float2half(a);
      dst[i + half_dim] = __float2half(b);
    }
  }
}

}  // namespace

Status fill_uniform_f16(void* dst, std::size_t n, std::uint64_t seed, float scale, cuda::GpuStream stream) {
  if (n == 0) return Status::success();
  fill_kernel<<<1024, 256, 0, stream>>>(static_cast<__half*>(dst), n, seed, scale);
  return cuda::detail::launch_status("fill_uniform_f16");
}

Status rms_norm_f16(const void* x, const void* w, void* y, int tokens, int hidden, cuda::GpuStream stream) {
  if (tokens <= 0) return Status::success();
  rms_norm_kernel<<<tokens, 256, 0, stream>>>(static_cast<const __half*>(x), static_cast<const __half*>(w),
                                              static_cast<__half*>(y), hidden);
  return cuda::detail::launch_status("rms_norm_f16");
}

Status rope_append_f16(void* qkv, void* kv_out, int tokens, int q_heads, int kv_heads, int head_dim,
                       std::int64_t position, cuda::GpuStream stream) {
  if (tokens <= 0) return Status::success();
  if (head_dim % 2 != 0) return Status::invalid("rope_append_f16: head_dim must be even");
  const int blocks = tokens * (q_heads + 2 * kv_heads);
  rope_append_kernel<<<blocks, 64, 0, stream>>>(static_cast<__half*>(qkv), static_cast<__half*>(kv_out), q_heads,
                                                kv_heads, head_dim, position);
  return cuda::detail::launch_status("rope_append_f16");
}

}  // namespace hgca::kernels::hybrid
