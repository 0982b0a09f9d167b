#include "kernels/cuda/kv_window.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

namespace hgca::kernels::cuda {

KvWindow::KvWindow(const WindowShape& shape, std::int64_t sinks)
    : shape_(shape), sinks_(sinks), tokens_(static_cast<std::size_t>(std::max(shape.batch, 0)), 0) {
  if (shape.type != KvType::f16 && shape.type != KvType::bf16)
    throw std::invalid_argument("KvWindow: KV type must be fp16 or bf16");
  if (shape.batch <= 0 || shape.kv_heads <= 0 || shape.head_dim <= 0 || shape.head_dim % 8 != 0 || shape.capacity <= 0)
    throw std::invalid_argument("KvWindow: batch, kv_heads, capacity > 0 and head_dim a positive multiple of 8");
  if (sinks < 0 || sinks >= shape.capacity)
    throw std::invalid_argument("KvWindow: sinks must lie in [0, capacity)");
  k_ = DeviceBuffer(shape.array_bytes());
  v_ = DeviceBuffer(shape.array_bytes());
  const auto b = static_cast<std::size_t>(shape.batch);
  lengths_ = DeviceBuffer(b * sizeof(std::int32_t));
  positions_ = DeviceBuffer(b * sizeof(std::int64_t));
  positions_host_ = PinnedBuffer(b * sizeof(std::int64_t));
  const std::size_t ev = b * static_cast<std::size_t>(shape.kv_heads) * 2 * shape.row_bytes();
  evicted_dev_ = DeviceBuffer(ev);
  evicted_host_ = PinnedBuffer(ev);
  fill_bytes(lengths_.data(), 0, lengths_.bytes(), nullptr);
  positions_sent_.record(nullptr);
  synchronize_device();  // later work runs on non-blocking streams, which do not wait for the legacy stream
}

void KvWindow::load(int seq, std::int64_t count, std::span<const std::uint16_t> k_rows,
                    std::span<const std::uint16_t> v_rows) {
  const auto elems = static_cast<std::size_t>(shape_.kv_heads) * static_cast<std::size_t>(count) * shape_.head_dim;
  if (seq < 0 || seq >= shape_.batch || count < 0 || count > shape_.capacity || k_rows.size() != elems ||
      v_rows.size() != elems)
    throw std::invalid_argument("KvWindow::load: sequence, count or row array size out of range");
  const std::size_t bytes = static_cast<std::size_t>(count) * shape_.row_bytes();
  for (int h = 0; h < shape_.kv_heads; ++h) {
    const std::size_t off = shape_.row_offset(seq, h, 0);
    const std::size_t src = static_cast<std::size_t>(h) * static_cast<std::size_t>(count) * shape_.head_dim;
    copy_to_device(static_cast<char*>(k_.data()) + off, k_rows.data() + src, bytes, nullptr);
    copy_to_device(static_cast<char*>(v_.data()) + off, v_rows.data() + src, bytes, nullptr);
  }
  const auto len = static_cast<std::int32_t>(count);
  copy_to_device(lengths_.as<std::int32_t>() + seq, &len, sizeof len, nullptr);
  synchronize_device();  // pageable sources: the copies must finish before `len` and the spans go away
  tokens_[static_cast<std::size_t>(seq)] = count;
}

std::vector<std::int64_t> KvWindow::append(const void* new_k, const void* new_v, GpuStream stream) {
  positions_sent_.synchronize();  // the previous append's copy has left the pinned buffer
  auto* pos = positions_host_.as<std::int64_t>();
  std::vector<std::int64_t> evicted(tokens_.size());
  for (std::size_t s = 0; s < tokens_.size(); ++s) {
    pos[s] = tokens_[s];
    evicted[s] = evicted_position(tokens_[s], sinks_, shape_.capacity);
  }
  copy_to_device(positions_.data(), pos, positions_.bytes(), stream);
  positions_sent_.record(stream);
  AppendArgs a;
  a.k = k_.data();
  a.v = v_.data();
  a.lengths = lengths_.as<std::int32_t>();
  a.new_k = new_k;
  a.new_v = new_v;
  a.positions = positions_.as<std::int64_t>();
  a.evicted = evicted_dev_.data();
  a.sinks = sinks_;
  if (Status st = append_tokens(shape_, a, stream); !st.ok()) throw CudaError(st.message);
  copy_to_host(evicted_host_.data(), evicted_dev_.data(), evicted_dev_.bytes(), stream);
  for (auto& t : tokens_) ++t;
  return evicted;
}

std::span<const std::uint16_t> KvWindow::evicted_row(int seq, int head, int which) const {
  const std::size_t row = (static_cast<std::size_t>(seq) * shape_.kv_heads + head) * 2 + which;
  return {evicted_host_.as<const std::uint16_t>() + row * shape_.head_dim, static_cast<std::size_t>(shape_.head_dim)};
}

Status KvWindow::store_evicted(std::span<const std::int64_t> evicted, std::span<const std::int64_t> pool_rows,
                               KvStore& pool) const {
  if (evicted.size() != tokens_.size() || pool_rows.size() != tokens_.size())
    return Status::invalid("store_evicted: one evicted position and one pool row per sequence");
  if (pool.type() != shape_.type || pool.kv_heads() != shape_.kv_heads || pool.head_dim() != shape_.head_dim ||
      pool.num_sequences() < shape_.batch)
    return Status::invalid("store_evicted: the pool's type, heads, head_dim or sequence count differ from the window's");
  for (int s = 0; s < shape_.batch; ++s) {
    if (evicted[static_cast<std::size_t>(s)] < 0) continue;
    const std::int64_t r = pool_rows[static_cast<std::size_t>(s)];
    if (r < 0 || r >= pool.tokens(s))
      return Status::invalid("store_evicted: pool row " + std::to_string(r) + " out of range for sequence " +
                             std::to_string(s));
    for (int h = 0; h < shape_.kv_heads; ++h) {
      std::memcpy(pool.keys(s, h) + static_cast<std::size_t>(r) * pool.row_bytes(), evicted_row(s, h, 0).data(),
                  pool.row_bytes());
      std::memcpy(pool.values(s, h) + static_cast<std::size_t>(r) * pool.row_bytes(), evicted_row(s, h, 1).data(),
                  pool.row_bytes());
    }
  }
  return Status::success();
}

}  // namespace hgca::kernels::cuda
