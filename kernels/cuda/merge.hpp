// Exact merge of two normalized partial attention results over disjoint position sets, on the GPU: the last
// step of an HGCA layer (GPU window part + CPU sparse part). The same arithmetic as merge_normalized in
// kernels/cpu/attention_state.hpp; lse is the natural log, a part with lse = -inf is empty and weighs
// nothing, two empty parts give out = 0, lse = -inf.
#pragma once

#include <cstddef>

#include "kernels/cpu/status.hpp"
#include "kernels/cuda/runtime.hpp"

namespace hgca::kernels::cuda {

// Device pointers: out_a, out_b, out [rows x head_dim]; lse_a, lse_b, lse [rows]. out/lse may alias a or b.
Status merge_attention(const float* out_a, const float* lse_a, const float* out_b, const float* lse_b, float* out,
                       float* lse, std::size_t rows, int head_dim, GpuStream stream);

}  // namespace hgca::kernels::cuda
