// Device-side helpers of the microbenchmarks: an empty kernel (launch overhead) and a fill of 16-bit data.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "kernels/microbench/device_helpers.hpp"

namespace hgca::kernels::microbench {
namespace {

__global__ void empty_kernel() {}

// fp16 values in [-1, 1) from a hash of the index: finite, and different in every copy of a buffer.
__global__ void fill_fp16_kernel(unsigned short* dst, unsigned long long count, unsigned long long seed) {
  for (unsigned long long i = blockIdx.x * 1ull * blockDim.x + threadIdx.x; i < count; i += 1ull * gridDim.x * blockDim.x) {
    unsigned long long x = (i + 1) * 0x9E3779B97F4A7C15ull ^ seed;
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 29;
    const float f = static_cast<float>(static_cast<long long>(x >> 40) - (1ll << 23)) / static_cast<float>(1 << 23);
    dst[i] = __half_as_ushort(__float2half(f));
  }
}

}  // namespace

int launch_empty_kernel(CUstream_st* stream) {
  empty_kernel<<<1, 32, 0, stream>>>();
  return static_cast<int>(cudaGetLastError());
}

int fill_fp16(void* dst, unsigned long long count, unsigned long long seed, CUstream_st* stream) {
  fill_fp16_kernel<<<1024, 256, 0, stream>>>(static_cast<unsigned short*>(dst), count, seed);
  return static_cast<int>(cudaGetLastError());
}

}  // namespace hgca::kernels::microbench
