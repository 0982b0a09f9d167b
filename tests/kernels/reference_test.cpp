// The double-precision reference against hand-computed cases and against itself in other formulations.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kernels/ref/reference_attention.hpp"
#include "tests/kernels/tolerances.hpp"

namespace hgca::kernels::ref {
namespace {

using test::kReference;

RowMatrix random_matrix(int rows, int cols, std::mt19937& rng) {
  std::normal_distribution<double> n;
  RowMatrix m(rows, cols);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) m(r, c) = n(rng);
  return m;
}

void expect_same(const Result& a, const Result& b) {
  ASSERT_EQ(a.out.size(), b.out.size());
  EXPECT_LE((a.out - b.out).cwiseAbs().maxCoeff(), kReference.out_rel * std::max(1.0, b.out.cwiseAbs().maxCoeff()));
  EXPECT_NEAR(a.lse, b.lse, kReference.lse_abs);
}

TEST(Reference, TwoTokensByHand) {
  // q . k = (2, 0), scale 0.5: s = (1, 0); weights e/(e+1), 1/(e+1).
  Eigen::VectorXd q(2);
  q << 1, 1;
  RowMatrix k(2, 2), v(2, 2);
  k << 2, 0, 0, 0;
  v << 1, 0, 0, 1;
  const Result r = attend_full(q, k, v, 0.5);
  const double e = std::exp(1.0);
  EXPECT_NEAR(r.out[0], e / (e + 1), 1e-15);
  EXPECT_NEAR(r.out[1], 1 / (e + 1), 1e-15);
  EXPECT_NEAR(r.lse, std::log(e + 1), 1e-15);  // natural log
}

TEST(Reference, SingleTokenIsItsValue) {
  std::mt19937 rng(3);
  const RowMatrix k = random_matrix(5, 8, rng), v = random_matrix(5, 8, rng);
  const Eigen::VectorXd q = random_matrix(1, 8, rng).row(0).transpose();
  const std::int64_t idx[] = {3};
  const Result r = attend_subset(q, k, v, idx, 0.25);
  EXPECT_LE((r.out - v.row(3).transpose()).cwiseAbs().maxCoeff(), 1e-15);
  EXPECT_NEAR(r.lse, 0.25 * k.row(3).dot(q), 1e-14);
}

TEST(Reference, EmptySubsetAndMergeIdentity) {
  std::mt19937 rng(4);
  const RowMatrix k = random_matrix(6, 4, rng), v = random_matrix(6, 4, rng);
  const Eigen::VectorXd q = random_matrix(1, 4, rng).row(0).transpose();
  const Result empty = attend_subset(q, k, v, {}, 0.5);
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.lse, -INFINITY);
  EXPECT_EQ(empty.out, Eigen::VectorXd::Zero(4));
  const Result full = attend_full(q, k, v, 0.5);
  const Result left = merge(empty, full), right = merge(full, empty), both = merge(empty, empty);
  EXPECT_EQ(left.out, full.out);
  EXPECT_EQ(left.lse, full.lse);
  EXPECT_EQ(right.out, full.out);
  EXPECT_EQ(right.lse, full.lse);
  EXPECT_TRUE(both.empty());
  EXPECT_FALSE(both.out.hasNaN());
}

TEST(Reference, SplitAndMergeEqualsFull) {
  std::mt19937 rng(5);
  const RowMatrix k = random_matrix(50, 16, rng), v = random_matrix(50, 16, rng);
  const Eigen::VectorXd q = 3.0 * random_matrix(1, 16, rng).row(0).transpose();
  std::vector<std::int64_t> a, b, c;
  for (std::int64_t t = 0; t < 50; ++t) (t % 3 == 0 ? a : t % 3 == 1 ? b : c).push_back(t);
  const Result ra = attend_subset(q, k, v, a, 0.25), rb = attend_subset(q, k, v, b, 0.25),
               rc = attend_subset(q, k, v, c, 0.25);
  const Result full = attend_full(q, k, v, 0.25);
  expect_same(merge(merge(ra, rb), rc), full);
  expect_same(merge(ra, merge(rb, rc)), full);
  const Result parts[] = {ra, rb, rc};
  expect_same(merge_all(parts, 16), full);
}

TEST(Reference, WindowIndices) {
  using V = std::vector<std::int64_t>;
  EXPECT_EQ(window_indices(10, 3, 0), (V{7, 8, 9}));
  EXPECT_EQ(window_indices(10, 3, 2), (V{0, 1, 7, 8, 9}));
  EXPECT_EQ(window_indices(5, 4, 3), (V{0, 1, 2, 3, 4}));  // overlap: each position once
  EXPECT_EQ(window_indices(5, 9, 0), (V{0, 1, 2, 3, 4}));
  EXPECT_EQ(window_indices(5, 0, 0), V{});
  EXPECT_EQ(window_indices(0, 4, 2), V{});
}

TEST(Reference, WindowEqualsItsSubset) {
  std::mt19937 rng(6);
  const RowMatrix k = random_matrix(40, 8, rng), v = random_matrix(40, 8, rng);
  const Eigen::VectorXd q = random_matrix(1, 8, rng).row(0).transpose();
  const std::vector<std::int64_t> idx = {0, 1, 2, 3, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39};
  expect_same(attend_window(q, k, v, 10, 4, 0.3), attend_subset(q, k, v, idx, 0.3));
}

TEST(Reference, GqaHeadMapping) {
  EXPECT_EQ(kv_head_for(0, 8, 2), 0);
  EXPECT_EQ(kv_head_for(3, 8, 2), 0);
  EXPECT_EQ(kv_head_for(4, 8, 2), 1);
  EXPECT_EQ(kv_head_for(7, 8, 2), 1);
  EXPECT_EQ(kv_head_for(5, 8, 1), 0);  // MQA
  EXPECT_EQ(kv_head_for(5, 8, 8), 5);  // MHA
  EXPECT_THROW(kv_head_for(0, 6, 4), std::invalid_argument);
}

TEST(Reference, RejectsOutOfRangeIndex) {
  const RowMatrix k = RowMatrix::Zero(3, 2), v = RowMatrix::Zero(3, 2);
  const std::int64_t idx[] = {0, 3};
  EXPECT_THROW(attend_subset(Eigen::VectorXd::Zero(2), k, v, idx, 1.0), std::out_of_range);
}

}  // namespace
}  // namespace hgca::kernels::ref
