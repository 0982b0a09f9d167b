// GPU decode attention against the double reference: every (sequence, query head) row, fp16 and bf16 KV,
// every supported head_dim and GQA group, ragged lengths (0, 1, partial tiles, full), forced and automatic
// split counts, every CTA shape. Plan checks run without a GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "tests/kernels/cuda/gpu_test_support.hpp"
#include "tests/kernels/test_support.hpp"

namespace hgca::kernels::test {
namespace {

using cuda::DecodeConfig;
using cuda::DecodePlan;
using cuda::WindowShape;

TEST(CudaDecodePlan, RefusesUnsupportedShapes) {
  DecodePlan p;
  const DecodeConfig c;
  EXPECT_EQ(cuda::plan_decode_attention({KvType::f16, 2, 8, 96, 512}, 32, c, 132, &p).code, StatusCode::unsupported);
  EXPECT_EQ(cuda::plan_decode_attention({KvType::f32, 2, 8, 128, 512}, 32, c, 132, &p).code, StatusCode::unsupported);
  EXPECT_EQ(cuda::plan_decode_attention({KvType::f16, 2, 8, 128, 512}, 30, c, 132, &p).code,
            StatusCode::invalid_argument);
  EXPECT_EQ(cuda::plan_decode_attention({KvType::f16, 2, 2, 128, 512}, 32, c, 132, &p).code, StatusCode::unsupported);
  EXPECT_EQ(cuda::plan_decode_attention({KvType::f16, 0, 8, 128, 512}, 32, c, 132, &p).code,
            StatusCode::invalid_argument);
  DecodeConfig bad = c;
  bad.warps = 3;
  EXPECT_EQ(cuda::plan_decode_attention({KvType::f16, 2, 8, 128, 512}, 32, bad, 132, &p).code,
            StatusCode::invalid_argument);
  bad = c;
  bad.splits = 1025;
  EXPECT_EQ(cuda::plan_decode_attention({KvType::f16, 2, 8, 128, 512}, 32, bad, 132, &p).code,
            StatusCode::invalid_argument);
  bad = c;
  bad.unroll = 5;
  EXPECT_EQ(cuda::plan_decode_attention({KvType::f16, 2, 8, 128, 512}, 32, bad, 132, &p).code,
            StatusCode::invalid_argument);
}

TEST(CudaDecodePlan, SplitsCoverTheWindow) {
  for (const std::int64_t cap : {1, 63, 64, 300, 4096, 32768, 100000})
    for (const int batch : {1, 16, 64})
      for (const int splits : {0, 1, 3, 1000}) {
        DecodeConfig c;
        c.splits = splits;
        DecodePlan p;
        ASSERT_TRUE(cuda::plan_decode_attention({KvType::f16, batch, 8, 128, cap}, 32, c, 132, &p).ok());
        EXPECT_GE(p.splits, 1);
        EXPECT_EQ(p.rows_per_split % 64, 0);
        EXPECT_GE(p.splits * p.rows_per_split, cap);
        EXPECT_LT((p.splits - 1) * p.rows_per_split, std::max<std::int64_t>(cap, 1));  // no empty split
        EXPECT_EQ(p.workspace_bytes == 0, p.splits == 1);
        if (splits == 0 && cap >= 4096) {
          EXPECT_GE(p.rows_per_split, 256);
        }
      }
}

TEST(CudaDecodePlan, LaunchChecksPointers) {
  DecodePlan p;
  ASSERT_TRUE(cuda::plan_decode_attention({KvType::f16, 1, 1, 64, 64}, 1, {}, 132, &p).ok());
  cuda::DecodeArgs a;
  a.kv.shape = {KvType::f16, 1, 1, 64, 64};
  a.q_heads = 1;
  EXPECT_EQ(cuda::decode_attention(a, p, nullptr).code, StatusCode::invalid_argument);
}

struct Shape {
  KvType type;
  int head_dim;
  int group;
};

class CudaDecodeShapes : public ::testing::TestWithParam<Shape> {};

TEST_P(CudaDecodeShapes, MatchesReferenceForEverySplitAndCtaShape) {
  HGCA_REQUIRE_GPU();
  const Shape s = GetParam();
  std::mt19937 rng(1000 + s.head_dim * 10 + s.group + (s.type == KvType::bf16 ? 7 : 0));
  const int kv_heads = 2;
  // Lengths: empty, one row, ragged tails, a full window (capacity 300 is not a multiple of any tile).
  DecodeCase c = random_case(s.type, 5, kv_heads * s.group, kv_heads, s.head_dim, 300, {0, 1, 37, 300, 200}, 1.0f, rng);
  const double scale = ref::default_scale(s.head_dim);
  const auto expected = reference_decode(c, scale);
  struct Variant {
    int splits, warps, unroll;
  };
  for (const Variant v : {Variant{1, 4, 4}, Variant{3, 4, 4}, Variant{0, 4, 4}, Variant{2, 1, 8}, Variant{5, 8, 4},
                          Variant{1, 2, 8}}) {
    DecodeConfig cfg;
    cfg.splits = v.splits;
    cfg.warps = v.warps;
    cfg.unroll = v.unroll;
    cfg.min_rows_per_split = 64;
    const GpuResult r = run_gpu_decode(c, cfg);
    const std::string what = std::string(kv_type_name(s.type)) + " d=" + std::to_string(s.head_dim) +
                             " group=" + std::to_string(s.group) + " splits=" + std::to_string(v.splits) +
                             " warps=" + std::to_string(v.warps) + " unroll=" + std::to_string(v.unroll);
    expect_rows_match(expected, r.out, r.lse, s.head_dim, kAttention, what);
  }
}

std::vector<Shape> all_shapes() {
  std::vector<Shape> v;
  for (const KvType t : {KvType::f16, KvType::bf16})
    for (const int d : {64, 128, 256})
      for (const int g : {1, 2, 4, 8}) v.push_back({t, d, g});
  return v;
}
INSTANTIATE_TEST_SUITE_P(All, CudaDecodeShapes, ::testing::ValuesIn(all_shapes()), [](const auto& info) {
  return std::string(kv_type_name(info.param.type)) + "_d" + std::to_string(info.param.head_dim) + "_g" +
         std::to_string(info.param.group);
});

// The Llama-3.1-8B shape over a long window with a peaky softmax, automatic splits; prints the worst error.
TEST(CudaDecode, LongWindowLlamaShape) {
  HGCA_REQUIRE_GPU();
  for (const KvType t : {KvType::f16, KvType::bf16}) {
    std::mt19937 rng(t == KvType::f16 ? 5 : 6);
    DecodeCase c = random_case(t, 2, 32, 8, 128, 32768, {32768, 20000}, 2.0f, rng);
    const GpuResult r = run_gpu_decode(c, DecodeConfig{});
    const double worst = expect_rows_match(reference_decode(c, ref::default_scale(128)), r.out, r.lse, 128, kAttention,
                                           std::string("long window ") + kv_type_name(t));
    std::printf("[ worst ] long window %s: max relative output error %.3g\n", kv_type_name(t), worst);
  }
}

// Splitting changes only the order of additions.
TEST(CudaDecode, SplitCountDoesNotChangeTheResult) {
  HGCA_REQUIRE_GPU();
  std::mt19937 rng(11);
  DecodeCase c = random_case(KvType::f16, 3, 8, 2, 128, 5000, {5000, 4097, 1}, 1.5f, rng);
  DecodeConfig one;
  one.splits = 1;
  const GpuResult a = run_gpu_decode(c, one);
  for (const int splits : {2, 7, 40}) {
    DecodeConfig many;
    many.splits = splits;
    const GpuResult b = run_gpu_decode(c, many);
    for (std::size_t i = 0; i < a.out.size(); ++i) ASSERT_NEAR(a.out[i], b.out[i], 1e-5) << "splits " << splits;
    for (std::size_t i = 0; i < a.lse.size(); ++i) ASSERT_NEAR(a.lse[i], b.lse[i], 1e-5) << "splits " << splits;
  }
}

// A custom scale reaches the kernel (the reference uses the same).
TEST(CudaDecode, ExplicitScale) {
  HGCA_REQUIRE_GPU();
  std::mt19937 rng(12);
  DecodeCase c = random_case(KvType::bf16, 2, 4, 4, 64, 130, {130, 64}, 1.0f, rng);
  DecodeConfig cfg;
  cfg.scale = 0.3f;
  const GpuResult r = run_gpu_decode(c, cfg);
  expect_rows_match(reference_decode(c, 0.3f), r.out, r.lse, 64, kAttention, "scale 0.3");
}

}  // namespace
}  // namespace hgca::kernels::test
