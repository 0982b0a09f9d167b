// The fp32 partial-attention state: empty state, merge identity, associativity, pairwise vs n-way, and the
// bulk merge of normalized parts, all against the double reference.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kernels/cpu/attention_state.hpp"
#include "kernels/ref/reference_attention.hpp"
#include "tests/kernels/tolerances.hpp"

namespace hgca::kernels {
namespace {

using test::kMerge;

struct Data {
  ref::RowMatrix k, v;
  Eigen::VectorXd q;
  double scale;
};

Data make_data(int tokens, int d, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n;
  Data data{ref::RowMatrix(tokens, d), ref::RowMatrix(tokens, d), Eigen::VectorXd(d), 1.0 / std::sqrt(d)};
  for (int t = 0; t < tokens; ++t)
    for (int i = 0; i < d; ++i) {
      data.k(t, i) = n(rng);
      data.v(t, i) = n(rng);
    }
  for (int i = 0; i < d; ++i) data.q[i] = 4.0f * n(rng);  // peaky softmax: rescaling matters
  return data;
}

// fp32 state over the given positions, built one position at a time.
AttentionState state_over(const Data& data, std::span<const std::int64_t> idx) {
  AttentionState s(static_cast<int>(data.q.size()));
  std::vector<float> v(static_cast<std::size_t>(data.q.size()));
  for (const std::int64_t t : idx) {
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(data.v(t, static_cast<Eigen::Index>(i)));
    s.add(static_cast<float>(data.scale * data.k.row(t).dot(data.q)), v);
  }
  return s;
}

void expect_matches(const AttentionState& s, const ref::Result& r) {
  std::vector<float> out(static_cast<std::size_t>(s.head_dim()));
  s.normalize(out);
  const double mag = r.out.cwiseAbs().maxCoeff();
  for (std::size_t i = 0; i < out.size(); ++i)
    EXPECT_NEAR(out[i], r.out[static_cast<Eigen::Index>(i)], kMerge.out_rel * mag) << i;
  EXPECT_NEAR(s.lse(), r.lse, kMerge.lse_abs);
}

TEST(AttentionState, EmptyStateIsDefined) {
  const AttentionState s(8);
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.lse(), -INFINITY);
  std::vector<float> out(8, 1.0f);
  s.normalize(out);
  for (const float x : out) EXPECT_EQ(x, 0.0f);
}

TEST(AttentionState, MergeWithEmptyIsIdentity) {
  const Data data = make_data(20, 8, 1);
  const std::vector<std::int64_t> idx = {1, 5, 7, 19};
  const AttentionState full = state_over(data, idx);
  AttentionState left(8), right = full, both(8);
  left.merge(full);
  right.merge(AttentionState(8));
  both.merge(AttentionState(8));
  for (const AttentionState* s : {&left, &right}) {
    EXPECT_EQ(s->max(), full.max());
    EXPECT_EQ(s->sum(), full.sum());
    EXPECT_TRUE(std::ranges::equal(s->acc(), full.acc()));
  }
  EXPECT_TRUE(both.empty());
  EXPECT_EQ(both.lse(), -INFINITY);
  EXPECT_FALSE(std::isnan(both.max()));
}

TEST(AttentionState, SplitMergeMatchesReferenceInAnyGrouping) {
  const Data data = make_data(90, 32, 2);
  std::vector<std::int64_t> a, b, c, all;
  for (std::int64_t t = 0; t < 90; ++t) {
    (t < 10 ? a : t < 70 ? b : c).push_back(t);
    all.push_back(t);
  }
  const ref::Result expected = ref::attend_subset(data.q, data.k, data.v, all, data.scale);
  const AttentionState sa = state_over(data, a), sb = state_over(data, b), sc = state_over(data, c);
  AttentionState left = sa;  // (a + b) + c
  left.merge(sb);
  left.merge(sc);
  AttentionState bc = sb;    // a + (b + c)
  bc.merge(sc);
  AttentionState right = sa;
  right.merge(bc);
  AttentionState reversed = sc;  // c + b + a: merge is symmetric
  reversed.merge(sb);
  reversed.merge(sa);
  expect_matches(left, expected);
  expect_matches(right, expected);
  expect_matches(reversed, expected);
  expect_matches(state_over(data, all), expected);
}

TEST(AttentionState, FromNormalizedRoundTrips) {
  const Data data = make_data(12, 8, 3);
  const std::vector<std::int64_t> idx = {0, 4, 11};
  const AttentionState s = state_over(data, idx);
  std::vector<float> out(8);
  s.normalize(out);
  const AttentionState back = AttentionState::from_normalized(out, s.lse());
  expect_matches(back, ref::attend_subset(data.q, data.k, data.v, idx, data.scale));
  EXPECT_TRUE(AttentionState::from_normalized(out, -INFINITY).empty());
}

TEST(MergeNormalized, MatchesReferenceAndHandlesEmptyRows) {
  const Data data = make_data(40, 16, 4);
  std::vector<std::int64_t> even, odd, all;
  for (std::int64_t t = 0; t < 40; ++t) {
    (t % 2 ? odd : even).push_back(t);
    all.push_back(t);
  }
  // Row 0: two real halves. Row 1: real + empty. Row 2: empty + real. Row 3: empty + empty.
  const ref::Result e = ref::attend_subset(data.q, data.k, data.v, even, data.scale);
  const ref::Result o = ref::attend_subset(data.q, data.k, data.v, odd, data.scale);
  const ref::Result z = ref::empty_result(16);
  const ref::Result lhs[] = {e, e, z, z}, rhs[] = {o, z, e, z};
  std::vector<float> out_a, out_b, lse_a, lse_b;
  for (int r = 0; r < 4; ++r) {
    for (int i = 0; i < 16; ++i) {
      out_a.push_back(static_cast<float>(lhs[r].out[i]));
      out_b.push_back(static_cast<float>(rhs[r].out[i]));
    }
    lse_a.push_back(static_cast<float>(lhs[r].lse));
    lse_b.push_back(static_cast<float>(rhs[r].lse));
  }
  std::vector<float> out(4 * 16), lse(4);
  merge_normalized(out_a, lse_a, out_b, lse_b, out, lse, 16);
  const ref::Result expected[] = {ref::attend_subset(data.q, data.k, data.v, all, data.scale), e, e, z};
  for (int r = 0; r < 4; ++r) {
    const double mag = std::max(1e-30, expected[r].out.cwiseAbs().maxCoeff());
    for (int i = 0; i < 16; ++i) EXPECT_NEAR(out[static_cast<std::size_t>(r * 16 + i)], expected[r].out[i], kMerge.out_rel * mag);
    if (expected[r].empty()) {
      EXPECT_EQ(lse[static_cast<std::size_t>(r)], -INFINITY);
    } else {
      EXPECT_NEAR(lse[static_cast<std::size_t>(r)], expected[r].lse, kMerge.lse_abs);
    }
  }
  // In place (result aliasing the first input) gives the same answer.
  std::vector<float> in_place = out_a, in_place_lse = lse_a;
  merge_normalized(in_place, in_place_lse, out_b, lse_b, in_place, in_place_lse, 16);
  EXPECT_EQ(in_place, out);
  EXPECT_EQ(in_place_lse, lse);
}

}  // namespace
}  // namespace hgca::kernels
