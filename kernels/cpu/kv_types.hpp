// Element types of a KV cache. Kept apart from kv_store.hpp because the SIMD translation units need the
// enum and nothing else (they must not see inline functions shared with other ISAs; kernel_table.hpp).
#pragma once

#include <cstddef>
#include <cstdint>

namespace hgca::kernels {

enum class KvType : std::uint8_t { f32 = 0, f16 = 1, bf16 = 2 };
inline constexpr int kKvTypeCount = 3;

constexpr std::size_t kv_element_bytes(KvType t) { return t == KvType::f32 ? 4 : 2; }

constexpr const char* kv_type_name(KvType t) {
  return t == KvType::f32 ? "fp32" : t == KvType::f16 ? "fp16" : "bf16";
}

}  // namespace hgca::kernels
