// GPU test fixtures. A decode problem is plain arrays (any Q, K, V: random here, recorded traces later), run
// on the GPU with poisoned outputs and compared row by row with the double reference (tests/kernels).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/kv_types.hpp"
#include "kernels/cuda/decode_attention.hpp"
#include "kernels/cuda/runtime.hpp"
#include "kernels/ref/reference_attention.hpp"

namespace hgca::kernels::test {

// Skips the current test unless a CUDA device is usable.
#define HGCA_REQUIRE_GPU()                                                  \
  do {                                                                      \
    std::string why_;                                                       \
    if (::hgca::kernels::cuda::device_count(&why_) == 0)                    \
      GTEST_SKIP() << "no CUDA device (" << why_ << ")";                    \
  } while (0)

struct DecodeCase {
  KvType type = KvType::f16;
  int batch = 1, q_heads = 1, kv_heads = 1, head_dim = 64;
  std::int64_t capacity = 0;
  std::vector<std::int64_t> lengths;  // [batch], each <= capacity
  std::vector<float> q;               // [batch x q_heads x head_dim]
  std::vector<float> k, v;            // [batch x kv_heads x capacity x head_dim]; rows past a length unused

  std::size_t row(int seq, int head, std::int64_t t) const {
    return ((static_cast<std::size_t>(seq) * kv_heads + head) * static_cast<std::size_t>(capacity) +
            static_cast<std::size_t>(t)) * head_dim;
  }
};

// Keys N(0,1) plus a per-channel offset (outlier channels), values N(0,1), queries N(0, q_stddev); k and v
// are rounded to the storage type so that the reference sees exactly what the GPU stores.
DecodeCase random_case(KvType type, int batch, int q_heads, int kv_heads, int head_dim, std::int64_t capacity,
                       std::vector<std::int64_t> lengths, float q_stddev, std::mt19937& rng);
// Rounds k and v to the case's storage type, in place.
void round_to_storage(DecodeCase& c);
// The 16-bit bit patterns of k or v, as the GPU stores them.
std::vector<std::uint16_t> storage_bits(const DecodeCase& c, const std::vector<float>& values);

struct GpuResult {
  std::vector<float> out, lse;
};
// Runs decode_attention (outputs poisoned with NaN first); fails the test on a bad status.
GpuResult run_gpu_decode(const DecodeCase& c, const cuda::DecodeConfig& config);
// The reference of every (sequence, query head) row over rows [0, length) of its KV head.
std::vector<ref::Result> reference_decode(const DecodeCase& c, double scale);

// Device <-> host helpers for tests (synchronous).
template <class T>
std::vector<T> to_host(const void* device, std::size_t count) {
  std::vector<T> h(count);
  cuda::copy_to_host(h.data(), device, count * sizeof(T), nullptr);
  cuda::synchronize_device();
  return h;
}
template <class T>
cuda::DeviceBuffer to_device(const std::vector<T>& h) {
  cuda::DeviceBuffer d(h.size() * sizeof(T));
  cuda::copy_to_device(d.data(), h.data(), h.size() * sizeof(T), nullptr);
  cuda::synchronize_device();
  return d;
}

}  // namespace hgca::kernels::test
