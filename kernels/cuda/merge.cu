#include "kernels/cuda/merge.hpp"

#include <string>

#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/device_math.cuh"

namespace hgca::kernels::cuda {

namespace {

// One warp per row. Each lane reads both lse values before any lane writes (the warp-level merge reads all
// parts of an element before writing it), so out/lse may alias an input.
__global__ void merge_two_kernel(const float* out_a, const float* lse_a, const float* out_b, const float* lse_b,
                                 float* out, float* lse, std::size_t rows, int head_dim) {
  const std::size_t row =
      static_cast<std::size_t>(blockIdx.x) * (blockDim.x / 32) + static_cast<std::size_t>(threadIdx.x / 32);
  if (row >= rows) return;
  const float la = lse_a[row], lb = lse_b[row];
  __syncwarp();
  const std::size_t base = row * static_cast<std::size_t>(head_dim);
  detail::merge_parts_warp(
      2, head_dim, [&](int s) { return s == 0 ? la : lb; },
      [&](int s, int d) { return s == 0 ? out_a[base + d] : out_b[base + d]; }, out + base, lse + row);
}

}  // namespace

Status merge_attention(const float* out_a, const float* lse_a, const float* out_b, const float* lse_b, float* out,
                       float* lse, std::size_t rows, int head_dim, GpuStream stream) {
  if (head_dim <= 0) return Status::invalid("merge_attention: head_dim must be positive, got " + std::to_string(head_dim));
  if (rows == 0) return Status::success();
  if (!out_a || !lse_a || !out_b || !lse_b || !out || !lse) return Status::invalid("merge_attention: null pointer");
  constexpr unsigned kRowsPerBlock = 4;
  const std::size_t blocks = (rows + kRowsPerBlock - 1) / kRowsPerBlock;
  if (blocks > 0x7FFFFFFFu) return Status::unsupported("merge_attention: too many rows");
  merge_two_kernel<<<static_cast<unsigned>(blocks), kRowsPerBlock * 32, 0, stream>>>(out_a, lse_a, out_b, lse_b, out,
                                                                                     lse, rows, head_dim);
  return detail::launch_status("merge_attention");
}

}  // namespace hgca::kernels::cuda
