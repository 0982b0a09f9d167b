// The shipped traces (traces/data) open, validate, hold what FORMAT.md says, and their stored attention
// outputs are reproduced by the double-precision reference (kernels/ref) from their own Q/K/V.
#include <gtest/gtest.h>

#include <string>

#include "kernels/ref/reference_attention.hpp"
#include "traces/format/trace.hpp"
#include "traces/format/trace_check.hpp"

namespace hgca::traces {
namespace {

const std::string kData = std::string(HGCA_SOURCE_DIR) + "/traces/data/";

struct Shipped {
  const char* file;
  int64_t prompt, decode;
};
const Shipped kShipped[] = {{"tinylm-code-8l-1k.h5", 960, 64}, {"tinylm-code-8l-4k.h5", 3904, 192}};
constexpr int64_t kPromptQueries = 256;  // both store the queries of their last 256 prompt positions

TEST(ShippedTraces, MetadataAsDocumented) {
  for (const Shipped& s : kShipped) {
    SCOPED_TRACE(s.file);
    const auto trace = open_trace(kData + s.file);
    const TraceMeta& m = trace->meta();
    EXPECT_EQ(m.model_name, "tinylm-code-8l");
    EXPECT_EQ(m.source, "capture:torch");
    EXPECT_EQ(m.num_layers, 8);
    EXPECT_EQ(m.num_q_heads, 4);
    EXPECT_EQ(m.num_kv_heads, 2);
    EXPECT_EQ(m.head_dim, 64);
    EXPECT_EQ(m.rope_theta, 500000.0);
    EXPECT_DOUBLE_EQ(m.softmax_scale, 0.125);
    EXPECT_EQ(m.storage_dtype, "float16");
    EXPECT_EQ(m.model_dtype, "float32");
    EXPECT_EQ(m.decode_mode, "teacher-forced");
    EXPECT_EQ(m.prompt_length, s.prompt);
    EXPECT_EQ(m.decode_steps, s.decode);
    EXPECT_TRUE(m.has_outputs);
    EXPECT_EQ(m.format_version, 2);
    ASSERT_EQ(m.num_prompt_queries(), kPromptQueries);
    for (int64_t i = 0; i < kPromptQueries; ++i)
      ASSERT_EQ(m.prompt_query_positions[static_cast<size_t>(i)], s.prompt - kPromptQueries + i);
    ASSERT_EQ(static_cast<int64_t>(m.tokens.size()), m.num_positions());
    // Byte-level tokens of Python source (the analysis package): printable ASCII and newlines.
    std::string text;
    for (int32_t t : m.tokens) {
      ASSERT_TRUE(t == '\n' || (t >= 32 && t < 127)) << "token " << t;
      text += static_cast<char>(t);
    }
    EXPECT_NE(text.find("\n    "), std::string::npos);  // indented blocks
    EXPECT_NE(text.find("def "), std::string::npos);
  }
}

TEST(ShippedTraces, EveryValueIsFinite) {
  for (const Shipped& s : kShipped) {
    SCOPED_TRACE(s.file);
    const TraceScan scan = scan_trace(*open_trace(kData + s.file));
    EXPECT_EQ(scan.blocks, 8 * (2 + 2 + 4 + 4 + 4));
    EXPECT_GT(scan.max_abs_key, 0);
    EXPECT_LT(scan.max_abs_key, 1e3);
    // Prompt queries come from the same projection and rotary as the decode queries: the same magnitude.
    EXPECT_GT(scan.max_abs_prompt_query, 0.5 * scan.max_abs_query);
    EXPECT_LT(scan.max_abs_prompt_query, 2.0 * scan.max_abs_query);
  }
}

// Attention of decode step t of (layer, query head) recomputed here with the reference over positions 0..p,
// against the stored output; returns |o - ref| / |ref|. `kv_of` and `last` let the test break the rules.
double recomputed_error(const TraceSource& trace, int layer, int head, int64_t step, int kv_head, int64_t last) {
  const TraceMeta& m = trace.meta();
  std::vector<float> kb, vb, qb, ob;
  trace.keys(layer, kv_head, kb);
  trace.values(layer, kv_head, vb);
  trace.queries(layer, head, qb);
  trace.outputs(layer, head, ob);
  const int d = m.head_dim;
  kernels::ref::RowMatrix k(last + 1, d), v(last + 1, d);
  for (int64_t r = 0; r <= last; ++r)
    for (int c = 0; c < d; ++c) {
      k(r, c) = kb[static_cast<size_t>(r * d + c)];
      v(r, c) = vb[static_cast<size_t>(r * d + c)];
    }
  Eigen::VectorXd q(d), o(d);
  for (int c = 0; c < d; ++c) {
    q[c] = qb[static_cast<size_t>(step * d + c)];
    o[c] = ob[static_cast<size_t>(step * d + c)];
  }
  const auto ref = kernels::ref::attend_full(q, k, v, m.softmax_scale);
  return (o - ref.out).norm() / ref.out.norm();
}

TEST(ShippedTraces, StoredOutputsAreTheReferenceAttentionOfTheStoredQkv) {
  const auto trace = open_trace(kData + "tinylm-code-8l-1k.h5");
  const TraceMeta& m = trace->meta();
  // Every layer and head at a few steps, with the reference directly.
  double worst = 0;
  for (int layer = 0; layer < m.num_layers; ++layer)
    for (int h = 0; h < m.num_q_heads; ++h)
      for (int64_t t : {int64_t{0}, int64_t{31}, m.decode_steps - 1})
        worst = std::max(worst, recomputed_error(*trace, layer, h, t, m.kv_head_of(h), m.prompt_length + t));
  EXPECT_LT(worst, output_tolerance("float16"));
  // The same through check_outputs over every step.
  const OutputCheck all = check_outputs(*trace);
  EXPECT_EQ(all.vectors, 8 * 4 * m.decode_steps);
  EXPECT_LT(all.max_rel_error, output_tolerance("float16"));
  EXPECT_LT(all.mean_rel_error, all.max_rel_error);
}

TEST(ShippedTraces, TheCheckTellsAWrongHeadMappingOrCausalWindow) {
  // What the agreement above rules out: reading the other KV head, or leaving out the query's own key.
  const auto trace = open_trace(kData + "tinylm-code-8l-1k.h5");
  const TraceMeta& m = trace->meta();
  double wrong_head = 0, without_own_key = 0;
  for (int layer = 0; layer < m.num_layers; ++layer)
    for (int h = 0; h < m.num_q_heads; ++h) {
      const int64_t t = m.decode_steps - 1, p = m.prompt_length + t;
      wrong_head = std::max(wrong_head, recomputed_error(*trace, layer, h, t, 1 - m.kv_head_of(h), p));
      without_own_key = std::max(without_own_key, recomputed_error(*trace, layer, h, t, m.kv_head_of(h), p - 1));
    }
  EXPECT_GT(wrong_head, 10 * output_tolerance("float16"));
  EXPECT_GT(without_own_key, output_tolerance("float16"));
}

TEST(ShippedTraces, LongTraceSpotCheck) {
  const auto trace = open_trace(kData + "tinylm-code-8l-4k.h5");
  const OutputCheck c = check_outputs(*trace, 64);  // steps 0, 64, 128 and the last
  EXPECT_EQ(c.vectors, 8 * 4 * 4);
  EXPECT_LT(c.max_rel_error, output_tolerance("float16"));
}

}  // namespace
}  // namespace hgca::traces
