// CPU-resident KV cache of one layer: for every (sequence, KV head) a row-major [tokens x head_dim] key
// block and a value block of one element type (fp16, bf16, or fp32 for tests).
//
// Each block starts on a 64-byte boundary so a row of a 64-byte-multiple head never straddles a cache line
// more than it must. Rows within a block are dense (stride = head_dim elements): the kernels rely on that.
//
// A store of 2 MB or more is mapped (zero pages, so the memory is first touched by whoever fills it, which
// can be many threads) and, with Pages::huge, advised to transparent huge pages: sparse attention gathers
// rows at random over gigabytes, and with 4 KB pages nearly every row costs a TLB miss and a page walk
// (two-dimensional in a virtual machine), whose cost then depends on where the kernel placed the pages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "kernels/cpu/kv_types.hpp"

namespace hgca::kernels {

namespace detail {
// operator delete[] for a small store; munmap of the whole mapping for a mapped one. (Outside KvStore so
// that it is a complete type, default member initialisers included, where unique_ptr needs it.)
struct KvStoreFree {
  std::byte* map_base = nullptr;
  std::size_t map_bytes = 0;
  void operator()(std::byte* p) const;
};
}  // namespace detail

class KvStore {
 public:
  enum class Pages { base, huge };  // huge: madvise(MADV_HUGEPAGE) on the mapping (Linux; a no-op elsewhere)

  // tokens_per_sequence[s] = number of cached tokens of sequence s (may be 0). Every element starts at zero.
  KvStore(KvType type, int kv_heads, int head_dim, std::vector<std::int64_t> tokens_per_sequence,
          Pages pages = Pages::huge);

  KvType type() const { return type_; }
  int num_sequences() const { return static_cast<int>(tokens_.size()); }
  int kv_heads() const { return kv_heads_; }
  int head_dim() const { return head_dim_; }
  std::int64_t tokens(int seq) const { return tokens_[static_cast<std::size_t>(seq)]; }
  std::size_t row_bytes() const { return static_cast<std::size_t>(head_dim_) * kv_element_bytes(type_); }
  std::size_t total_bytes() const { return bytes_; }
  // Whether the kernel accepted the huge-page advice (false for small stores and Pages::base).
  bool huge_pages_advised() const { return huge_advised_; }

  // Start of the [tokens x head_dim] block; row t begins at t * row_bytes().
  const std::byte* keys(int seq, int head) const { return data_.get() + offset(seq, head); }
  const std::byte* values(int seq, int head) const { return keys(seq, head) + block_bytes_[seq]; }
  std::byte* keys(int seq, int head) { return data_.get() + offset(seq, head); }
  std::byte* values(int seq, int head) { return keys(seq, head) + block_bytes_[seq]; }

  // Write one row, converting from fp32 with round-to-nearest-even.
  void set_key(int seq, int head, std::int64_t token, std::span<const float> row);
  void set_value(int seq, int head, std::int64_t token, std::span<const float> row);
  // Read one element back as fp32 (exact: every stored type widens losslessly).
  float key(int seq, int head, std::int64_t token, int i) const;
  float value(int seq, int head, std::int64_t token, int i) const;

 private:
  using Free = detail::KvStoreFree;
  std::size_t offset(int seq, int head) const {
    return seq_offset_[static_cast<std::size_t>(seq)] +
           2 * static_cast<std::size_t>(head) * block_bytes_[static_cast<std::size_t>(seq)];
  }

  KvType type_;
  int kv_heads_;
  int head_dim_;
  std::vector<std::int64_t> tokens_;
  std::vector<std::size_t> block_bytes_;  // per sequence: one K (or V) block, rounded up to 64 bytes
  std::vector<std::size_t> seq_offset_;
  std::size_t bytes_ = 0;
  bool huge_advised_ = false;
  std::unique_ptr<std::byte[], Free> data_;
};

}  // namespace hgca::kernels
