// Device helpers of the benchmark. The two memory ceilings the attention figures are compared with, measured on the device at hand:
// a large device-to-device copy (bytes read + written) and a read-only streaming kernel (bytes read) that
// uses the same 16-byte loads as the attention kernel.
#pragma once

#include <cstddef>

namespace hgca::kernels::cuda {

struct Bandwidth {
  double copy_gbs = 0;  // cudaMemcpy device to device, (read + write) / time
  double read_gbs = 0;  // read-only kernel, read / time
  std::size_t bytes = 0;
};

// Medians over `reps` runs on a buffer of `bytes` (two for the copy). Throws CudaError.
Bandwidth measure_hbm(std::size_t bytes, int reps);

// Fills `count` 16-bit elements (fp16 if !bf16) with hash-generated values, uniform in [-range, range),
// deterministic in (seed, index). Benchmarks fill gigabytes this way without a host round trip.
void fill_random_16bit(void* dst, std::size_t count, bool bf16, float range, unsigned long long seed);

}  // namespace hgca::kernels::cuda
