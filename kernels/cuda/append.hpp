// The GPU window's write path: every decode step appends one token per sequence; once a sequence's window
// is full the token that falls out of it is copied, before it is overwritten, to a staging buffer and from
// there to pinned host memory, where the host files it into the CPU pool (a KvStore).
//
// Slot policy, for a window of `capacity` rows whose first `sinks` rows are attention sinks:
//   token at absolute position p lives in slot p                                if p < capacity
//                                        slot sinks + (p - sinks) % ring        otherwise, ring = capacity - sinks
// so after appending p (p >= capacity) the window holds tokens [0, sinks) and (p - ring, p], and the token
// that left is p - ring. Sequences advance independently (positions are per sequence).
#pragma once

#include <cstdint>
#include "kernels/cpu/status.hpp"
#include "kernels/cuda/runtime.hpp"
#include "kernels/cuda/window.hpp"

namespace hgca::kernels::cuda {

// The slot of absolute position `position`; the position that appending it evicts, or -1 if none.
std::int64_t window_slot(std::int64_t position, std::int64_t sinks, std::int64_t capacity);
std::int64_t evicted_position(std::int64_t position, std::int64_t sinks, std::int64_t capacity);

struct AppendArgs {
  void* k = nullptr;                     // window K array (device)
  void* v = nullptr;                     // window V array (device)
  std::int32_t* lengths = nullptr;       // [batch] (device); set to min(position + 1, capacity)
  const void* new_k = nullptr;           // [batch x kv_heads x head_dim] (device), the window's element type
  const void* new_v = nullptr;
  const std::int64_t* positions = nullptr;  // [batch] (device): absolute position of each new token
  void* evicted = nullptr;               // [batch x kv_heads x 2 x head_dim] (device): K then V row that left;
                                         // untouched for sequences that evict nothing
  std::int64_t sinks = 0;
};

// Launcher: one kernel that, for every (sequence, KV head), copies the row being evicted (if any) to
// `evicted` and writes the new K and V rows into their slot.
Status append_tokens(const WindowShape& shape, const AppendArgs& args, GpuStream stream);

}  // namespace hgca::kernels::cuda
