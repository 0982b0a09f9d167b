#include "kernels/cuda/append.hpp"

#include <cuda_runtime.h>

#include <algorithm>
#include <string>

#include "kernels/cuda/cuda_check.cuh"

namespace hgca::kernels::cuda {

std::int64_t window_slot(std::int64_t position, std::int64_t sinks, std::int64_t capacity) {
  if (position < capacity) return position;
  return sinks + (position - sinks) % (capacity - sinks);
}

std::int64_t evicted_position(std::int64_t position, std::int64_t sinks, std::int64_t capacity) {
  return position < capacity ? -1 : position - (capacity - sinks);
}

namespace {

// One CTA per (sequence, KV head); threads move 16-byte pieces of the K and V rows. Each piece is read
// (to the eviction buffer) before the same thread overwrites it, so no barrier is needed.
__global__ void append_kernel(uint4* k, uint4* v, std::int32_t* lengths, const uint4* new_k, const uint4* new_v,
                              const std::int64_t* positions, uint4* evicted, int kv_heads, int pieces_per_row,
                              std::int64_t capacity, std::int64_t sinks) {
  const int pair = static_cast<int>(blockIdx.x);
  const int seq = pair / kv_heads;
  const std::int64_t p = positions[seq];
  const std::int64_t slot = p < capacity ? p : sinks + (p - sinks) % (capacity - sinks);
  const bool evicts = p >= capacity;
  const std::size_t row = (static_cast<std::size_t>(pair) * capacity + slot) * pieces_per_row;
  const std::size_t src = static_cast<std::size_t>(pair) * pieces_per_row;
  const std::size_t ev = static_cast<std::size_t>(pair) * 2 * pieces_per_row;
  for (int i = static_cast<int>(threadIdx.x); i < pieces_per_row; i += static_cast<int>(blockDim.x)) {
    if (evicts) {
      evicted[ev + i] = k[row + i];
      evicted[ev + pieces_per_row + i] = v[row + i];
    }
    k[row + i] = new_k[src + i];
    v[row + i] = new_v[src + i];
  }
  if (threadIdx.x == 0 && pair % kv_heads == 0)
    lengths[seq] = static_cast<std::int32_t>(p + 1 < capacity ? p + 1 : capacity);
}

}  // namespace

Status append_tokens(const WindowShape& s, const AppendArgs& a, GpuStream stream) {
  if (s.type != KvType::f16 && s.type != KvType::bf16) return Status::unsupported("append_tokens: KV must be fp16 or bf16");
  if (s.batch <= 0 || s.kv_heads <= 0 || s.head_dim <= 0 || s.head_dim % 8 != 0)
    return Status::invalid("append_tokens: batch, kv_heads > 0 and head_dim a positive multiple of 8");
  if (a.sinks < 0 || a.sinks >= s.capacity)
    return Status::invalid("append_tokens: sinks (" + std::to_string(a.sinks) + ") must lie in [0, capacity = " +
                           std::to_string(s.capacity) + ")");
  if (!a.k || !a.v || !a.lengths || !a.new_k || !a.new_v || !a.positions || !a.evicted)
    return Status::invalid("append_tokens: null device pointer");
  if (static_cast<long long>(s.batch) * s.kv_heads > 0x7FFFFFFF) return Status::unsupported("append_tokens: too many heads");
  const int pieces = s.head_dim / 8;
  append_kernel<<<static_cast<unsigned>(s.batch * s.kv_heads), static_cast<unsigned>(std::min(pieces, 128)), 0,
                  stream>>>(static_cast<uint4*>(a.k), static_cast<uint4*>(a.v), a.lengths,
                            static_cast<const uint4*>(a.new_k), static_cast<const uint4*>(a.new_v), a.positions,
                            static_cast<uint4*>(a.evicted), s.kv_heads, pieces, s.capacity, a.sinks);
  return detail::launch_status("append_tokens");
}

}  // namespace hgca::kernels::cuda
