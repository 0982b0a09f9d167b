#include "sim/hw/gpu_cost.hpp"

#include <algorithm>

namespace hgca {

double gpu_kernel_fixed_seconds(const GpuSpec& gpu, KernelKind kind) {
  switch (kind) {
    case KernelKind::Attention: return gpu.attention_fixed_s;
    case KernelKind::Gemm: return gpu.gemm_fixed_s;
    case KernelKind::Merge:
    case KernelKind::Elementwise:
    case KernelKind::Selection: return gpu.vector_fixed_s;
    case KernelKind::Other: return 0;  // an empty kernel: kernel_min alone
  }
  return 0;
}

double gpu_kernel_seconds(const GpuSpec& gpu, KernelKind kind, double flops, double bytes) {
  const bool tensor = kind == KernelKind::Gemm || kind == KernelKind::Attention;
  const double peak = tensor ? gpu.matmul_flops * gpu.matmul_efficiency : gpu.vector_flops;
  const double compute = peak > 0 ? flops / peak : 0;
  const double memory = gpu.hbm_bandwidth > 0 ? bytes / (gpu.hbm_bandwidth * gpu.hbm_efficiency) : 0;
  return std::max(gpu.kernel_min_s, gpu_kernel_fixed_seconds(gpu, kind) + std::max(compute, memory));
}

}  // namespace hgca
