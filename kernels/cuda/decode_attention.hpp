// Dense decode attention over the GPU window (one query token per sequence), split over the KV length
// (flash-decoding): each CTA takes one (sequence, KV head, split), reads every K and V row of its range once
// for all query heads of the GQA group, and keeps an online softmax per head in fp32; a second kernel merges
// the splits by log-sum-exp. With one split the first kernel writes the result directly.
//
//   q, out: fp32 [batch x q_heads x head_dim]   lse: fp32 [batch x q_heads], NATURAL log (as kernels/cpu)
//   query head h reads KV head h / (q_heads / kv_heads); a sequence with length 0 gets out = 0, lse = -inf.
//
// Supported: KV fp16 or bf16, head_dim 64, 128 or 256, group size q_heads / kv_heads of 1, 2, 4 or 8.
// Everything is checked once in plan_decode_attention / decode_attention; the kernels trust their arguments.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cpu/status.hpp"
#include "kernels/cuda/runtime.hpp"
#include "kernels/cuda/window.hpp"

namespace hgca::kernels::cuda {

struct DecodeConfig {
  float scale = 0.0f;      // 0 means 1 / sqrt(head_dim)
  int splits = 0;          // splits of the KV length per (sequence, KV head), at most 1024; 0: automatic
  int warps = 4;           // warps per CTA: 1, 2, 4 or 8
  int unroll = 4;          // rows each thread loads before using them (K and V): 4 or 8
  // Automatic splits minimise (waves of CTAs) x (rows per CTA + 64), a CTA slot being one of
  // sm_count x ctas_per_sm (0: the kernel's occupancy on device 0, or 3 without a device), plus a
  // 64-row charge for the combine pass, with at least min_rows_per_split rows per split.
  int ctas_per_sm = 0;
  std::int64_t min_rows_per_split = 256;
};

struct DecodePlan {
  int splits = 1;
  std::int64_t rows_per_split = 0;
  int ctas_per_sm = 0;  // the occupancy the automatic split count assumed
  int warps = 4;
  int unroll = 4;
  float scale = 0.0f;
  std::size_t workspace_bytes = 0;  // device scratch for the split partials (0 with one split)
};

// Checks the shape and the configuration and picks the split count for a GPU with `sm_count` SMs.
Status plan_decode_attention(const WindowShape& shape, int q_heads, const DecodeConfig& config, int sm_count,
                             DecodePlan* plan);

struct DecodeArgs {
  WindowView kv;
  int q_heads = 0;
  const float* q = nullptr;  // device
  float* out = nullptr;      // device
  float* lse = nullptr;      // device
  void* workspace = nullptr; // device, plan.workspace_bytes
};

// Enqueues the attention on `stream`. The plan must come from plan_decode_attention for the same shape.
Status decode_attention(const DecodeArgs& args, const DecodePlan& plan, GpuStream stream);

}  // namespace hgca::kernels::cuda
