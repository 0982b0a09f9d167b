// The GPU-resident KV window of one layer: for every (sequence, KV head) a K block and a V block of
// `capacity` rows of head_dim 16-bit elements, in two device arrays laid out [batch][kv_heads][capacity][head_dim].
// Rows [0, lengths[b]) of sequence b are valid. Attention is a sum over rows, so their order does not matter:
// the append path (kv_window.hpp) keeps `sinks` first tokens in slots [0, sinks) and the most recent tokens in
// a ring over the remaining slots.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cpu/kv_types.hpp"

namespace hgca::kernels::cuda {

struct WindowShape {
  KvType type = KvType::f16;  // f16 or bf16 (f32 is refused by the GPU launchers)
  int batch = 0;
  int kv_heads = 0;
  int head_dim = 0;
  std::int64_t capacity = 0;  // rows per (sequence, KV head)

  std::size_t row_bytes() const { return static_cast<std::size_t>(head_dim) * kv_element_bytes(type); }
  std::size_t block_bytes() const { return static_cast<std::size_t>(capacity) * row_bytes(); }
  // Bytes of the K array (the V array has as many).
  std::size_t array_bytes() const {
    return static_cast<std::size_t>(batch) * static_cast<std::size_t>(kv_heads) * block_bytes();
  }
  // Byte offset of row `slot` of (seq, head) in either array.
  std::size_t row_offset(int seq, int head, std::int64_t slot) const {
    return (static_cast<std::size_t>(seq) * static_cast<std::size_t>(kv_heads) + static_cast<std::size_t>(head)) *
               block_bytes() +
           static_cast<std::size_t>(slot) * row_bytes();
  }
};

// Device pointers of a window (what the attention kernel reads).
struct WindowView {
  WindowShape shape;
  const void* k = nullptr;
  const void* v = nullptr;
  const std::int32_t* lengths = nullptr;  // [batch], each in [0, capacity]
};

}  // namespace hgca::kernels::cuda
