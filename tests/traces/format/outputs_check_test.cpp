// check_outputs and scan_trace against hand computations and traces whose outputs were computed here.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/traces/format/trace_test_support.hpp"
#include "traces/format/trace_check.hpp"

namespace hgca::traces {
namespace {

// One layer, one head, head_dim 2, scale 1: two positions whose attention weights are 1/4 and 3/4.
InMemoryTrace two_position_trace(float o0, float o1) {
  InMemoryTrace t;
  t.m.num_layers = t.m.num_q_heads = t.m.num_kv_heads = 1;
  t.m.head_dim = 2;
  t.m.softmax_scale = 1.0;
  t.m.prompt_length = 1;
  t.m.decode_steps = 1;
  t.m.has_outputs = true;
  t.k = {{{0.0f, 0.0f, static_cast<float>(std::log(3.0)), 0.0f}}};  // scores 0 and ln 3
  t.v = {{{4.0f, 0.0f, 0.0f, 8.0f}}};
  t.q = {{{1.0f, 0.0f}}};
  t.o = {{{o0, o1}}};  // exact: (4 * 1/4 + 0, 0 + 8 * 3/4) = (1, 6)
  t.validate();
  return t;
}

TEST(CheckOutputs, HandComputedAttention) {
  const OutputCheck exact = check_outputs(two_position_trace(1.0f, 6.0f));
  EXPECT_LT(exact.max_rel_error, 1e-6);
  EXPECT_EQ(exact.vectors, 1);
  const OutputCheck off = check_outputs(two_position_trace(1.0f, 6.6f));
  EXPECT_NEAR(off.max_rel_error, 0.6 / std::sqrt(37.0), 1e-6);
  EXPECT_EQ(off.worst_layer, 0);
  EXPECT_EQ(off.worst_head, 0);
  EXPECT_EQ(off.worst_step, 0);
}

TEST(CheckOutputs, AgreesWithOutputsComputedIndependently) {
  for (const auto& [q_heads, kv_heads] : {std::pair{4, 4}, {4, 2}, {6, 1}}) {
    const InMemoryTrace t = test::random_trace(test::Shape{2, q_heads, kv_heads, 16, 20, 6}, "float32", true, 7);
    const OutputCheck c = check_outputs(t);
    EXPECT_LT(c.max_rel_error, 1e-5) << q_heads << "/" << kv_heads;
    EXPECT_EQ(c.vectors, 2 * q_heads * 6);
  }
}

TEST(CheckOutputs, FindsTheHeadWhoseKeysDoNotMatch) {
  // GQA 4/2: swap the keys of the two KV heads of layer 1; only query heads of layer 1 disagree.
  InMemoryTrace t = test::random_trace(test::Shape{2, 4, 2, 16, 20, 6}, "float32", true, 8);
  std::swap(t.k[1][0], t.k[1][1]);
  const OutputCheck c = check_outputs(t);
  EXPECT_GT(c.max_rel_error, 0.05);
  EXPECT_EQ(c.worst_layer, 1);
}

TEST(CheckOutputs, StrideSkipsStepsButKeepsTheLast) {
  const InMemoryTrace t = test::random_trace(test::Shape{1, 2, 1, 8, 3, 7}, "float32", true, 9);
  EXPECT_EQ(check_outputs(t, 2).vectors, 2 * 4);  // steps 0, 2, 4, 6 (the last)
  EXPECT_EQ(check_outputs(t, 4).vectors, 2 * 3);  // steps 0, 4 and the last, 6
  EXPECT_THROW(check_outputs(t, 0), TraceError);
}

TEST(CheckOutputs, NeedsOutputs) {
  const InMemoryTrace t = test::random_trace(test::Shape{}, "float32", false, 9);
  EXPECT_THROW(check_outputs(t), TraceError);
}

TEST(CheckOutputs, ToleranceOfEachStorageDtypeHoldsForRoundedRandomTraces) {
  // Outputs computed in double from unrounded Q/K/V, then everything rounded as a file would store it.
  for (const char* dtype : {"float32", "float16", "bfloat16"}) {
    InMemoryTrace t = test::random_trace(test::Shape{2, 4, 2, 64, 200, 8}, dtype, true, 10);
    for (auto* tensor : {&t.k, &t.v, &t.q, &t.o})
      for (auto& layer : *tensor)
        for (auto& block : layer)
          for (float& x : block) x = test::stored_value(x, dtype);
    const OutputCheck c = check_outputs(t);
    EXPECT_LT(c.max_rel_error, output_tolerance(dtype)) << dtype;
  }
}

TEST(ScanTrace, ReadsEveryBlockAndReportsTheLargestMagnitudes) {
  InMemoryTrace t = test::random_trace(test::Shape{2, 4, 2, 8, 5, 3}, "float32", true, 12);
  t.v[1][1][7] = -17.5f;
  t.q[0][3][2] = 9.25f;
  const TraceScan s = scan_trace(t);
  EXPECT_EQ(s.blocks, 2 * (2 + 2 + 4 + 4));
  EXPECT_EQ(s.max_abs_value, 17.5);
  EXPECT_EQ(s.max_abs_query, 9.25);
  EXPECT_LE(s.max_abs_key, 3.0);
}

}  // namespace
}  // namespace hgca::traces
