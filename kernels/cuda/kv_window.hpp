// KvWindow: a GPU window (window.hpp) with its own device memory and the pinned staging of the eviction
// path (append.hpp): load a sequence's first tokens, append one token per sequence per step, and file the
// tokens that leave the window into the CPU pool.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "kernels/cpu/kv_store.hpp"
#include "kernels/cpu/status.hpp"
#include "kernels/cuda/append.hpp"
#include "kernels/cuda/runtime.hpp"
#include "kernels/cuda/window.hpp"

namespace hgca::kernels::cuda {

// A window with its own device memory, plus the pinned staging the eviction path needs.
class KvWindow {
 public:
  KvWindow(const WindowShape& shape, std::int64_t sinks);  // throws CudaError / std::invalid_argument

  const WindowShape& shape() const { return shape_; }
  std::int64_t sinks() const { return sinks_; }
  WindowView view() const { return {shape_, k_.data(), v_.data(), lengths_.as<std::int32_t>()}; }
  void* keys() { return k_.data(); }
  void* values() { return v_.data(); }

  // Number of tokens each sequence has appended so far (host mirror of the positions).
  std::int64_t tokens(int seq) const { return tokens_[static_cast<std::size_t>(seq)]; }

  // Fills sequence `seq` with its first `count` tokens (count <= capacity, no eviction): rows are host
  // [kv_heads x count x head_dim] 16-bit bit patterns for K and for V. Synchronous.
  void load(int seq, std::int64_t count, std::span<const std::uint16_t> k_rows, std::span<const std::uint16_t> v_rows);

  // Appends one token per sequence (device rows [batch x kv_heads x head_dim]) on `stream`, copies the
  // evicted rows to pinned memory and returns, per sequence, the position that left (-1 for none). The
  // rows are readable through evicted_row() once `stream` has been synchronized, until the next append
  // (which first waits until this one has consumed its pinned position buffer).
  std::vector<std::int64_t> append(const void* new_k, const void* new_v, GpuStream stream);
  // K (which = 0) or V (which = 1) row of (seq, head) from the last append, as 16-bit bit patterns.
  std::span<const std::uint16_t> evicted_row(int seq, int head, int which) const;
  // Files the last append's evicted rows into `pool`: row pool_rows[seq] of (seq, head) for every sequence
  // that evicted a token (pool_rows[seq] is ignored for the others). Call after synchronizing `stream`.
  Status store_evicted(std::span<const std::int64_t> evicted, std::span<const std::int64_t> pool_rows,
                       KvStore& pool) const;

 private:
  WindowShape shape_;
  std::int64_t sinks_;
  std::vector<std::int64_t> tokens_;
  DeviceBuffer k_, v_, lengths_, positions_, evicted_dev_;
  PinnedBuffer positions_host_, evicted_host_;
  Event positions_sent_;
};

}  // namespace hgca::kernels::cuda
