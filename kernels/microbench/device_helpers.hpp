// Launchers of the microbenchmarks' own device code (device_helpers.cu); plain C++, no CUDA headers.
#pragma once

struct CUstream_st;

namespace hgca::kernels::microbench {

// Enqueues one empty kernel (1 block of 32 threads); returns the cudaError_t of the launch.
int launch_empty_kernel(CUstream_st* stream);
// Fills `count` fp16 elements with values in [-1, 1) hashed from (index, seed); returns the cudaError_t.
int fill_fp16(void* dst, unsigned long long count, unsigned long long seed, CUstream_st* stream);

}  // namespace hgca::kernels::microbench
