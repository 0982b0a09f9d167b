#include "kernels/cpu/kv_store.hpp"

#include <cstring>
#include <new>
#include <stdexcept>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "kernels/cpu/half.hpp"

namespace hgca::kernels {
namespace {

constexpr std::size_t kAlign = 64;
constexpr std::size_t kHugePage = std::size_t{2} << 20;  // x86-64 transparent huge page

std::size_t round_up(std::size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

void write_row(std::byte* dst, KvType type, std::span<const float> row) {
  switch (type) {
    case KvType::f32:
      std::memcpy(dst, row.data(), row.size() * sizeof(float));
      return;
    case KvType::f16:
      for (std::size_t i = 0; i < row.size(); ++i) {
        const std::uint16_t b = float_to_fp16_bits(row[i]);
        std::memcpy(dst + 2 * i, &b, 2);
      }
      return;
    case KvType::bf16:
      for (std::size_t i = 0; i < row.size(); ++i) {
        const std::uint16_t b = float_to_bf16_bits(row[i]);
        std::memcpy(dst + 2 * i, &b, 2);
      }
      return;
  }
}

float read_element(const std::byte* row, KvType type, int i) {
  if (type == KvType::f32) {
    float f;
    std::memcpy(&f, row + 4 * i, 4);
    return f;
  }
  std::uint16_t b;
  std::memcpy(&b, row + 2 * i, 2);
  return type == KvType::f16 ? fp16_bits_to_float(b) : bf16_bits_to_float(b);
}

}  // namespace

void detail::KvStoreFree::operator()(std::byte* p) const {
#if defined(__linux__)
  if (map_bytes) {
    munmap(map_base, map_bytes);
    return;
  }
#endif
  ::operator delete[](p, std::align_val_t{kAlign});
}

KvStore::KvStore(KvType type, int kv_heads, int head_dim, std::vector<std::int64_t> tokens_per_sequence, Pages pages)
    : type_(type), kv_heads_(kv_heads), head_dim_(head_dim), tokens_(std::move(tokens_per_sequence)) {
  if (kv_heads <= 0 || head_dim <= 0) throw std::invalid_argument("KvStore: kv_heads and head_dim must be > 0");
  for (const std::int64_t t : tokens_) {
    if (t < 0 || t > INT32_MAX) throw std::invalid_argument("KvStore: tokens per sequence must be in [0, 2^31)");
    block_bytes_.push_back(round_up(static_cast<std::size_t>(t) * row_bytes()));
    seq_offset_.push_back(bytes_);
    bytes_ += 2 * static_cast<std::size_t>(kv_heads) * block_bytes_.back();
  }
#if defined(__linux__)
  if (bytes_ >= kHugePage) {
    // One huge page more than needed, so that the data can start on a huge-page boundary.
    const std::size_t map_bytes = bytes_ + kHugePage;
    void* m = mmap(nullptr, map_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) throw std::bad_alloc();
    auto* base = static_cast<std::byte*>(m);
    const auto addr = reinterpret_cast<std::uintptr_t>(base);
    std::byte* start = base + ((kHugePage - addr % kHugePage) % kHugePage);
    data_ = std::unique_ptr<std::byte[], Free>(start, Free{base, map_bytes});
    if (pages == Pages::huge) huge_advised_ = madvise(start, bytes_, MADV_HUGEPAGE) == 0;
    return;  // anonymous pages read as zero
  }
#endif
  (void)pages;
  data_.reset(static_cast<std::byte*>(::operator new[](bytes_ == 0 ? kAlign : bytes_, std::align_val_t{kAlign})));
  std::memset(data_.get(), 0, bytes_);
}

void KvStore::set_key(int seq, int head, std::int64_t token, std::span<const float> row) {
  if (row.size() != static_cast<std::size_t>(head_dim_)) throw std::invalid_argument("KvStore::set_key: row size");
  write_row(keys(seq, head) + static_cast<std::size_t>(token) * row_bytes(), type_, row);
}

void KvStore::set_value(int seq, int head, std::int64_t token, std::span<const float> row) {
  if (row.size() != static_cast<std::size_t>(head_dim_)) throw std::invalid_argument("KvStore::set_value: row size");
  write_row(values(seq, head) + static_cast<std::size_t>(token) * row_bytes(), type_, row);
}

float KvStore::key(int seq, int head, std::int64_t token, int i) const {
  return read_element(keys(seq, head) + static_cast<std::size_t>(token) * row_bytes(), type_, i);
}

float KvStore::value(int seq, int head, std::int64_t token, int i) const {
  return read_element(values(seq, head) + static_cast<std::size_t>(token) * row_bytes(), type_, i);
}

}  // namespace hgca::kernels
