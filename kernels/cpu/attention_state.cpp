#include "kernels/cpu/attention_state.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace hgca::kernels {
namespace {
constexpr float kNegInf = -std::numeric_limits<float>::infinity();
}

AttentionState::AttentionState(int head_dim) : acc_(static_cast<std::size_t>(head_dim), 0.0f), max_(kNegInf) {}

AttentionState AttentionState::from_normalized(std::span<const float> out, float lse) {
  AttentionState s(static_cast<int>(out.size()));
  if (lse == kNegInf) return s;
  s.acc_.assign(out.begin(), out.end());
  s.max_ = lse;
  s.sum_ = 1.0f;
  return s;
}

void AttentionState::add(float score, std::span<const float> v) {
  if (v.size() != acc_.size()) throw std::invalid_argument("AttentionState::add: value size");
  if (score > max_) {
    const float alpha = empty() ? 0.0f : std::exp(max_ - score);
    for (float& a : acc_) a *= alpha;
    sum_ *= alpha;
    max_ = score;
  }
  const float p = std::exp(score - max_);
  for (std::size_t i = 0; i < acc_.size(); ++i) acc_[i] += p * v[i];
  sum_ += p;
}

void AttentionState::merge(const AttentionState& other) {
  if (other.acc_.size() != acc_.size()) throw std::invalid_argument("AttentionState::merge: head_dim mismatch");
  if (other.empty()) return;
  if (empty()) {
    *this = other;
    return;
  }
  const float m = std::max(max_, other.max_);
  const float a = std::exp(max_ - m);
  const float b = std::exp(other.max_ - m);
  for (std::size_t i = 0; i < acc_.size(); ++i) acc_[i] = a * acc_[i] + b * other.acc_[i];
  sum_ = a * sum_ + b * other.sum_;
  max_ = m;
}

void AttentionState::normalize(std::span<float> out) const {
  if (out.size() != acc_.size()) throw std::invalid_argument("AttentionState::normalize: output size");
  if (empty()) {
    std::fill(out.begin(), out.end(), 0.0f);
    return;
  }
  const float inv = 1.0f / sum_;
  for (std::size_t i = 0; i < acc_.size(); ++i) out[i] = acc_[i] * inv;
}

float AttentionState::lse() const { return empty() ? kNegInf : max_ + std::log(sum_); }

void merge_normalized(std::span<const float> out_a, std::span<const float> lse_a, std::span<const float> out_b,
                      std::span<const float> lse_b, std::span<float> out, std::span<float> lse, int head_dim) {
  const std::size_t rows = lse.size();
  const auto d = static_cast<std::size_t>(head_dim);
  if (lse_a.size() != rows || lse_b.size() != rows || out_a.size() != rows * d || out_b.size() != rows * d ||
      out.size() != rows * d)
    throw std::invalid_argument("merge_normalized: sizes disagree");
  for (std::size_t r = 0; r < rows; ++r) {
    const float la = lse_a[r], lb = lse_b[r];
    const float m = std::max(la, lb);
    float wa = 0.0f, wb = 0.0f;
    if (m != kNegInf) {  // both empty: weights stay 0 and the merged row is the empty row
      wa = std::exp(la - m);
      wb = std::exp(lb - m);
    }
    const float total = wa + wb;
    const float inv = total > 0.0f ? 1.0f / total : 0.0f;
    for (std::size_t i = 0; i < d; ++i)
      out[r * d + i] = (wa * out_a[r * d + i] + wb * out_b[r * d + i]) * inv;
    lse[r] = m == kNegInf ? kNegInf : m + std::log(total);
  }
}

}  // namespace hgca::kernels
