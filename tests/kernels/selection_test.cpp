// Key scan scoring, top-k, and Quest-style block summaries, on hand-made cases and against double dot
// products; the block bound is checked to really bound every key of its block.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kernels/cpu/selection.hpp"
#include "tests/kernels/test_support.hpp"

namespace hgca::kernels::test {
namespace {

using I = std::vector<std::int32_t>;

TEST(TopK, HandMadeCases) {
  const std::vector<float> s = {1.0f, 5.0f, 3.0f, 5.0f, 2.0f};
  EXPECT_EQ(top_k(s, 2), (I{1, 3}));
  EXPECT_EQ(top_k(s, 3), (I{1, 2, 3}));
  EXPECT_EQ(top_k(s, 1), (I{1}));  // tie between 1 and 3: the lower position wins
  EXPECT_EQ(top_k(s, 0), I{});
  EXPECT_EQ(top_k(s, 9), (I{0, 1, 2, 3, 4}));
  const std::vector<float> with_nan = {NAN, -INFINITY, 0.0f, NAN};
  EXPECT_EQ(top_k(with_nan, 2), (I{1, 2}));  // NaN ranks below everything, -inf included
  EXPECT_EQ(top_k(std::vector<float>{}, 3), I{});
}

TEST(TopK, AgreesWithSortingOnRandomScores) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> small(0, 20);  // many ties
  std::vector<float> s(500);
  for (float& x : s) x = static_cast<float>(small(rng));
  std::vector<std::int32_t> order(s.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return s[static_cast<std::size_t>(a)] > s[static_cast<std::size_t>(b)]; });
  for (const std::int64_t k : {1, 17, 250, 499}) {
    I expected(order.begin(), order.begin() + k);
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(top_k(s, k), expected) << k;
  }
}

class SelectionPerIsa : public ::testing::TestWithParam<Isa> {};

TEST_P(SelectionPerIsa, ScoreKeysMatchesDoubleDotProducts) {
  std::mt19937 rng(8);
  for (const KvType type : {KvType::f32, KvType::f16, KvType::bf16}) {
    for (const int d : {128, 40}) {
      const int kv_heads = 2, group = 4;
      const Layer layer = make_layer(type, kv_heads, d, {77}, rng);
      const auto q = random_queries(group, d, 1.0f, rng);
      std::vector<float> scores(static_cast<std::size_t>(group) * 77);
      const float scale = 0.125f;
      ASSERT_TRUE(score_keys(layer.kv, 0, 1, q, group, scale, scores, GetParam()).ok());
      const ref::RowMatrix& k = layer.k[0][1];
      for (int g = 0; g < group; ++g) {
        for (int t = 0; t < 77; ++t) {
          double exact = 0, magnitude = 0;
          for (int i = 0; i < d; ++i) {
            exact += q[static_cast<std::size_t>(g * d + i)] * k(t, i);
            magnitude += std::abs(q[static_cast<std::size_t>(g * d + i)] * k(t, i));
          }
          EXPECT_NEAR(scores[static_cast<std::size_t>(g * 77 + t)], scale * exact, kScoreRel * scale * magnitude)
              << kv_type_name(type) << " d" << d << " g" << g << " t" << t;
        }
      }
    }
  }
}

TEST_P(SelectionPerIsa, BlockBoundHandMade) {
  // Two keys in 2-D: min = (-1, 0), max = (2, 3). For q = (1, -1): max(1*-1, 1*2) + max(-1*0, -1*3) = 2 + 0.
  KvStore kv(KvType::f32, 1, 2, {3});
  kv.set_key(0, 0, 0, std::vector<float>{-1.0f, 3.0f});
  kv.set_key(0, 0, 1, std::vector<float>{2.0f, 0.0f});
  kv.set_key(0, 0, 2, std::vector<float>{5.0f, 5.0f});  // a second, partial block
  const BlockSummaries s = summarize_blocks(kv, 0, 0, 2);
  ASSERT_EQ(s.blocks(), 2);
  EXPECT_EQ(s.kmin, (std::vector<float>{-1.0f, 0.0f, 5.0f, 5.0f}));
  EXPECT_EQ(s.kmax, (std::vector<float>{2.0f, 3.0f, 5.0f, 5.0f}));
  std::vector<float> bounds(2);
  ASSERT_TRUE(block_upper_bounds(s, std::vector<float>{1.0f, -1.0f}, 1.0f, bounds, GetParam()).ok());
  EXPECT_EQ(bounds[0], 2.0f);  // attained by key 1: q . (2, 0) = 2
  EXPECT_EQ(bounds[1], 0.0f);  // a single key: the bound is its score, 5 - 5
}

TEST_P(SelectionPerIsa, BlockBoundIsAnUpperBoundAndFindsTheHotBlock) {
  std::mt19937 rng(9);
  for (const int d : {128, 40}) {
    const Layer layer = make_layer(KvType::bf16, 1, d, {300}, rng);
    const BlockSummaries s = summarize_blocks(layer.kv, 0, 0, 16);
    ASSERT_EQ(s.blocks(), 19);  // 18 full blocks and one of 12
    const auto q = random_queries(1, d, 1.0f, rng);
    std::vector<float> bounds(19);
    const float scale = 1.0f / std::sqrt(static_cast<float>(d));
    ASSERT_TRUE(block_upper_bounds(s, q, scale, bounds, GetParam()).ok());
    for (std::int64_t t = 0; t < 300; ++t) {
      const std::size_t b = static_cast<std::size_t>(t / 16);
      double exact = 0, slack = 0;
      for (int i = 0; i < d; ++i) {
        exact += q[static_cast<std::size_t>(i)] * layer.k[0][0](t, i);
        slack += std::abs(q[static_cast<std::size_t>(i)]) *
                 std::max(std::abs(s.kmin[b * static_cast<std::size_t>(d) + static_cast<std::size_t>(i)]),
                          std::abs(s.kmax[b * static_cast<std::size_t>(d) + static_cast<std::size_t>(i)]));
      }
      // fp32 rounding of a d-term sum: at most d * 2^-24 relative to the sum of magnitudes.
      EXPECT_GE(bounds[b], scale * (exact - d * std::ldexp(1.0, -24) * slack)) << "d" << d << " token " << t;
    }
    // The bound ranks a block holding a key aligned with q first.
    KvStore hot(KvType::f32, 1, d, {64});
    std::vector<float> row(static_cast<std::size_t>(d));
    for (std::int64_t t = 0; t < 64; ++t) {
      for (int i = 0; i < d; ++i) row[static_cast<std::size_t>(i)] = 0.1f * layer.kv.key(0, 0, t, i);
      if (t == 45) for (int i = 0; i < d; ++i) row[static_cast<std::size_t>(i)] = 3.0f * q[static_cast<std::size_t>(i)];
      hot.set_key(0, 0, t, row);
    }
    const BlockSummaries hs = summarize_blocks(hot, 0, 0, 8);
    std::vector<float> hb(8);
    ASSERT_TRUE(block_upper_bounds(hs, q, scale, hb, GetParam()).ok());
    EXPECT_EQ(top_k(hb, 1), (I{5}));  // token 45 lives in block 5
    EXPECT_EQ(expand_blocks(top_k(hb, 1), 8, 64), (I{40, 41, 42, 43, 44, 45, 46, 47}));
  }
}

INSTANTIATE_TEST_SUITE_P(AllPaths, SelectionPerIsa, ::testing::ValuesIn(supported_isas()),
                         [](const ::testing::TestParamInfo<Isa>& i) { return std::string(isa_name(i.param)); });

TEST(Selection, ExpandBlocksClipsSortsAndDropsRepeats) {
  EXPECT_EQ(expand_blocks(I{2, 0, 2}, 4, 10), (I{0, 1, 2, 3, 8, 9}));
  EXPECT_EQ(expand_blocks(I{}, 4, 10), I{});
}

TEST(Selection, RejectsBadArguments) {
  KvStore kv(KvType::f16, 2, 8, {10});
  std::vector<float> q(8), scores(10);
  EXPECT_TRUE(score_keys(kv, 0, 1, q, 1, 0.0f, scores).ok());
  EXPECT_EQ(score_keys(kv, 0, 2, q, 1, 0.0f, scores).code, StatusCode::invalid_argument);
  EXPECT_EQ(score_keys(kv, 1, 0, q, 1, 0.0f, scores).code, StatusCode::invalid_argument);
  EXPECT_EQ(score_keys(kv, 0, 0, q, 2, 0.0f, scores).code, StatusCode::invalid_argument);
  const BlockSummaries s = summarize_blocks(kv, 0, 0, 4);
  std::vector<float> bounds(3);
  EXPECT_TRUE(block_upper_bounds(s, q, 1.0f, bounds).ok());
  EXPECT_EQ(block_upper_bounds(s, q, -1.0f, bounds).code, StatusCode::invalid_argument);
  EXPECT_EQ(block_upper_bounds(s, q, 1.0f, std::span<float>(bounds).first(2)).code, StatusCode::invalid_argument);
  EXPECT_THROW(summarize_blocks(kv, 0, 0, 0), std::invalid_argument);
}

}  // namespace
}  // namespace hgca::kernels::test
