// The one table of tolerances for the kernel tests.
//
// Kernels are compared with the double-precision reference run on the SAME stored KV values (the 16-bit
// values widened to double), so these bounds measure the kernels' own fp32 arithmetic and fast exp, not the
// rounding of the cache to fp16/bf16 (that is a property of the data, tested with the conversions).
//
// Output error of a row (one query head) is normwise: max_i |out_i - ref_i| / max_i |ref_i|. LSE error is
// absolute in natural-log units, i.e. a relative error of the softmax denominator.
#pragma once

namespace hgca::kernels::test {

struct Tolerance {
  double out_rel;
  double lse_abs;
};

// CPU attention kernels (every ISA path, every KV type) against the reference. The requirement is < 1e-3;
// fp32 accumulation over a few hundred positions stays near 1e-6, so a tighter bound catches real bugs
// (a wrong exp coefficient or a missed rescale shows up as >1e-4).
inline constexpr Tolerance kAttention{2e-5, 2e-5};
// Merging fp32 partial results (AttentionState, merge_normalized) against the merged reference.
inline constexpr Tolerance kMerge{2e-5, 2e-5};
// The reference against itself in another formulation (split and merged, windowed vs subset): double.
inline constexpr Tolerance kReference{1e-12, 1e-12};
// The vector exp of each path against double exp on [-87.3, 0], in units of float epsilon (2^-23)
// relative to the exact value.
inline constexpr double kExpUlps = 2.0;  // measured: 0.63
// score_keys logits against double dot products, relative to scale * sum_i |q_i k_i|.
inline constexpr double kScoreRel = 1e-5;

}  // namespace hgca::kernels::test
