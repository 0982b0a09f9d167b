// Partial attention over some set of positions, as a value type: unnormalized output, running max and
// running sum of one query head. Two states over disjoint position sets merge exactly into the state of the
// union; that is how the GPU window part and the CPU sparse part of HGCA combine.
//
//   max = max_j s_j,  sum = sum_j exp(s_j - max),  acc = sum_j exp(s_j - max) v_j,  s_j = scale * q . k_j
//   normalize(): acc / sum        lse(): max + log(sum)   (natural logarithm, as everywhere here)
//
// The empty state (no positions) is max = -inf, sum = 0, acc = 0; normalize() gives zeros, lse() -inf, and
// merging with it is the identity in both directions. No code path evaluates exp(-inf - -inf).
#pragma once

#include <span>
#include <vector>

namespace hgca::kernels {

class AttentionState {
 public:
  explicit AttentionState(int head_dim);  // the empty state
  // The state equivalent to a normalized output and its lse (max = lse, sum = 1, acc = out).
  static AttentionState from_normalized(std::span<const float> out, float lse);

  int head_dim() const { return static_cast<int>(acc_.size()); }
  bool empty() const { return sum_ == 0.0f; }
  float max() const { return max_; }
  float sum() const { return sum_; }
  std::span<const float> acc() const { return acc_; }

  // Add one position with score s and value row v (used by tests and simple callers; kernels do the same
  // arithmetic in bulk).
  void add(float s, std::span<const float> v);
  void merge(const AttentionState& other);
  void normalize(std::span<float> out) const;
  float lse() const;

 private:
  std::vector<float> acc_;
  float max_;
  float sum_ = 0.0f;
};

// Bulk merge of normalized (out, lse) pairs, row by row: rows x head_dim outputs and rows lse values. The
// result may alias either input. This is the merge HGCA does after the GPU and CPU parts finish.
void merge_normalized(std::span<const float> out_a, std::span<const float> lse_a, std::span<const float> out_b,
                      std::span<const float> lse_b, std::span<float> out, std::span<float> lse, int head_dim);

}  // namespace hgca::kernels
