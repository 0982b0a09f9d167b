// Scalar twins of the SIMD kernels: the same algorithm (chunked one-pass online softmax, fp32 accumulation),
// written as plain loops. Compiled without ISA flags; also the path of last resort on any CPU.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/cpu/half.hpp"
#include "kernels/cpu/kernel_table.hpp"

namespace hgca::kernels::detail {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

template <KvType T>
void widen_row(const std::byte* src, int d, float* dst) {
  for (int i = 0; i < d; ++i) {
    if constexpr (T == KvType::f32) {
      std::memcpy(&dst[i], src + 4 * i, 4);
    } else {
      std::uint16_t b;
      std::memcpy(&b, src + 2 * i, 2);
      dst[i] = T == KvType::f16 ? fp16_bits_to_float(b) : bf16_bits_to_float(b);
    }
  }
}

float dot(const float* a, const float* b, int n) {
  float s = 0.0f;
  for (int i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

void copy_padded(const float* src, int d, int dp, int rows, float* dst) {
  for (int r = 0; r < rows; ++r) {
    std::copy(src + static_cast<std::ptrdiff_t>(r) * d, src + static_cast<std::ptrdiff_t>(r + 1) * d,
              dst + static_cast<std::ptrdiff_t>(r) * dp);
    std::fill(dst + static_cast<std::ptrdiff_t>(r) * dp + d, dst + static_cast<std::ptrdiff_t>(r + 1) * dp, 0.0f);
  }
}

// Turns one head's chunk of scores into probabilities relative to the running max, rescaling the running
// state first when the chunk raises the max. A head with no position in the chunk keeps its state.
void softmax_step(float* s, int n, float& max, float& sum, float* acc, int dp) {
  float cm = kNegInf;
  for (int i = 0; i < n; ++i) cm = std::max(cm, s[i]);
  if (cm == kNegInf) {
    std::fill(s, s + n, 0.0f);
    return;
  }
  if (cm > max) {
    const float alpha = std::exp(max - cm);  // max = -inf on the first chunk: alpha = 0, state was empty
    for (int i = 0; i < dp; ++i) acc[i] *= alpha;
    sum *= alpha;
    max = cm;
  }
  float chunk_sum = 0.0f;
  for (int i = 0; i < n; ++i) {
    s[i] = std::exp(s[i] - max);
    chunk_sum += s[i];
  }
  sum += chunk_sum;
}

template <KvType T>
void attend_group(const GroupAttentionArgs& a) {
  const int d = a.head_dim, dp = a.padded_dim, G = a.group;
  const GroupScratch& S = a.scratch;
  const std::size_t row_bytes = static_cast<std::size_t>(d) * kv_element_bytes(T);
  const std::uint64_t all = G == 64 ? ~0ull : (1ull << G) - 1;
  copy_padded(a.q, d, dp, G, S.q);
  std::fill(S.acc, S.acc + static_cast<std::ptrdiff_t>(G) * dp, 0.0f);
  std::fill(S.row, S.row + dp, 0.0f);
  std::fill(S.max, S.max + G, kNegInf);
  std::fill(S.sum, S.sum + G, 0.0f);

  auto token = [&](std::int64_t j) -> std::size_t {
    return static_cast<std::size_t>(a.tokens ? a.tokens[j] : a.first + j);
  };
  for (std::int64_t c0 = 0; c0 < a.count; c0 += kChunkTokens) {
    const int n = static_cast<int>(std::min<std::int64_t>(kChunkTokens, a.count - c0));
    for (int i = 0; i < n; ++i) {
      const std::uint64_t mask = a.head_masks ? a.head_masks[c0 + i] : all;
      widen_row<T>(a.keys + token(c0 + i) * row_bytes, d, S.row);
      for (int g = 0; g < G; ++g)
        S.scores[g * kChunkTokens + i] = (mask >> g) & 1 ? a.scale * dot(S.q + g * dp, S.row, dp) : kNegInf;
    }
    for (int g = 0; g < G; ++g) softmax_step(S.scores + g * kChunkTokens, n, S.max[g], S.sum[g], S.acc + g * dp, dp);
    for (int i = 0; i < n; ++i) {
      const std::uint64_t mask = a.head_masks ? a.head_masks[c0 + i] : all;
      widen_row<T>(a.values + token(c0 + i) * row_bytes, d, S.row);
      for (int g = 0; g < G; ++g) {
        if (!((mask >> g) & 1)) continue;
        const float p = S.scores[g * kChunkTokens + i];
        float* acc = S.acc + g * dp;
        for (int k = 0; k < dp; ++k) acc[k] += p * S.row[k];
      }
    }
  }
  for (int g = 0; g < G; ++g) {
    float* out = a.out + static_cast<std::ptrdiff_t>(g) * d;
    if (S.sum[g] == 0.0f) {
      std::fill(out, out + d, 0.0f);
      a.lse[g] = kNegInf;
      continue;
    }
    const float inv = 1.0f / S.sum[g];
    for (int k = 0; k < d; ++k) out[k] = S.acc[g * dp + k] * inv;
    a.lse[g] = S.max[g] + std::log(S.sum[g]);
  }
}

template <KvType T>
void score_keys(const ScoreKeysArgs& a) {
  const int d = a.head_dim, dp = a.padded_dim;
  const std::size_t row_bytes = static_cast<std::size_t>(d) * kv_element_bytes(T);
  copy_padded(a.q, d, dp, a.group, a.q_scratch);
  std::fill(a.row_scratch, a.row_scratch + dp, 0.0f);
  for (std::int64_t t = 0; t < a.count; ++t) {
    widen_row<T>(a.keys + static_cast<std::size_t>(t) * row_bytes, d, a.row_scratch);
    for (int g = 0; g < a.group; ++g)
      a.scores[g * a.count + t] = a.scale * dot(a.q_scratch + g * dp, a.row_scratch, dp);
  }
}

void block_bounds(const BlockBoundsArgs& a) {
  for (std::int64_t b = 0; b < a.blocks; ++b) {
    const float* mn = a.kmin + b * a.head_dim;
    const float* mx = a.kmax + b * a.head_dim;
    float s = 0.0f;
    for (int i = 0; i < a.head_dim; ++i) s += std::max(a.q[i] * mn[i], a.q[i] * mx[i]);
    a.bounds[b] = a.scale * s;
  }
}

void exp_values(const float* x, float* y, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = std::exp(x[i]);
}

constexpr KernelTable kTable = {
    {attend_group<KvType::f32>, attend_group<KvType::f16>, attend_group<KvType::bf16>},
    {score_keys<KvType::f32>, score_keys<KvType::f16>, score_keys<KvType::bf16>},
    block_bounds,
    exp_values,
};

}  // namespace

const KernelTable* scalar_kernel_table() { return &kTable; }

}  // namespace hgca::kernels::detail
