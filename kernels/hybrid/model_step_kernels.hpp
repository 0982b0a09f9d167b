// The elementwise kernels of a decode step around attention (model_step.cpp): weight fill, RMSNorm, and
// RoPE + KV append. fp16 activations and weights ([tokens x features], row-major), plain C++ interface.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/cpu/status.hpp"
#include "kernels/cuda/runtime.hpp"

namespace hgca::kernels::hybrid {

// n fp16 values uniform in [-scale, scale), a pure function of (seed, index).
Status fill_uniform_f16(void* dst, std::size_t n, std::uint64_t seed, float scale, cuda::GpuStream stream);
// y = x / rms(x) * w per token row; x, y [tokens x hidden], w [hidden] (fp16, fp32 arithmetic).
Status rms_norm_f16(const void* x, const void* w, void* y, int tokens, int hidden, cuda::GpuStream stream);
// In place on qkv [tokens x (q_heads + 2 kv_heads) x head_dim]: rotates the q and k heads for `position`
// (rotate-half RoPE, base 500000), and writes each token's k and v rows to kv_out [tokens x 2 x kv_heads x
// head_dim] (the append into the cache).
Status rope_append_f16(void* qkv, void* kv_out, int tokens, int q_heads, int kv_heads, int head_dim,
                       std::int64_t position, cuda::GpuStream stream);

}  // namespace hgca::kernels::hybrid
