// write_trace then open_trace gives back the metadata exactly and every value as its storage dtype rounds
// it (fp32 bit for bit), for every dtype, MHA/GQA/MQA, odd head dims and tensors spanning several chunks.
#include <gtest/gtest.h>

#include <cstring>

#include "tests/traces/format/trace_test_support.hpp"
#include "traces/format/trace.hpp"
#include "traces/format/trace_check.hpp"

namespace hgca::traces {
namespace {

using test::ScratchDir;
using test::Shape;

void expect_same_meta(const TraceMeta& a, const TraceMeta& b) {
  EXPECT_EQ(a.format_version, b.format_version);
  EXPECT_EQ(a.model_name, b.model_name);
  EXPECT_EQ(a.source, b.source);
  EXPECT_EQ(a.text_source, b.text_source);
  EXPECT_EQ(a.num_layers, b.num_layers);
  EXPECT_EQ(a.num_q_heads, b.num_q_heads);
  EXPECT_EQ(a.num_kv_heads, b.num_kv_heads);
  EXPECT_EQ(a.head_dim, b.head_dim);
  EXPECT_EQ(a.storage_dtype, b.storage_dtype);
  EXPECT_EQ(a.model_dtype, b.model_dtype);
  EXPECT_EQ(a.decode_mode, b.decode_mode);
  EXPECT_EQ(a.rope_theta, b.rope_theta);
  EXPECT_EQ(a.rope_scaling, b.rope_scaling);
  EXPECT_EQ(a.softmax_scale, b.softmax_scale);
  EXPECT_EQ(a.prompt_length, b.prompt_length);
  EXPECT_EQ(a.decode_steps, b.decode_steps);
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_EQ(a.has_outputs, b.has_outputs);
  EXPECT_EQ(a.prompt_query_positions, b.prompt_query_positions);
}

// Every value read back equals the stored rounding of the original, bit for bit.
void expect_blocks(const std::vector<std::vector<std::vector<float>>>& want, int heads, const TraceSource& got,
                   void (TraceSource::*read)(int, int, std::vector<float>&) const, const std::string& dtype,
                   const char* name) {
  std::vector<float> block;
  for (size_t l = 0; l < want.size(); ++l)
    for (int h = 0; h < heads; ++h) {
      (got.*read)(static_cast<int>(l), h, block);
      ASSERT_EQ(block.size(), want[l][h].size()) << name << " layer " << l << " head " << h;
      for (size_t i = 0; i < block.size(); ++i) {
        const float expected = test::stored_value(want[l][h][i], dtype);
        uint32_t a, b;
        std::memcpy(&a, &expected, 4);
        std::memcpy(&b, &block[i], 4);
        ASSERT_EQ(a, b) << name << " layer " << l << " head " << h << " index " << i << ": " << want[l][h][i]
                        << " stored as " << dtype << " should read back as " << expected << ", got " << block[i];
      }
    }
}

void round_trip(const Shape& shape, const std::string& dtype, bool outputs, int compression) {
  ScratchDir dir("round-trip");
  const InMemoryTrace original = test::random_trace(shape, dtype, outputs, 17u + shape.head_dim);
  const std::string path = dir.file("trace.h5");
  write_trace(original, path, TraceWriteOptions{compression});
  EXPECT_EQ(dir.entry_count(), 1u) << "only the trace, no temporary left behind";
  const auto trace = open_trace(path);
  expect_same_meta(original.meta(), trace->meta());
  const TraceMeta& m = original.meta();
  expect_blocks(original.k, m.num_kv_heads, *trace, &TraceSource::keys, dtype, "keys");
  expect_blocks(original.v, m.num_kv_heads, *trace, &TraceSource::values, dtype, "values");
  expect_blocks(original.q, m.num_q_heads, *trace, &TraceSource::queries, dtype, "queries");
  if (outputs) expect_blocks(original.o, m.num_q_heads, *trace, &TraceSource::outputs, dtype, "outputs");
}

struct Case {
  const char* name;
  Shape shape;
};

const Case kShapes[] = {
    {"mha", {2, 4, 4, 8, 5, 3}},   {"gqa", {2, 4, 2, 16, 7, 2}}, {"mqa", {1, 8, 1, 32, 4, 4}},
    {"odd_head_dim_3", {1, 2, 1, 3, 6, 2}}, {"odd_head_dim_17", {3, 6, 3, 17, 9, 5}},
    {"prompt_of_zero", {1, 2, 2, 4, 0, 4}},
};

class RoundTrip : public ::testing::TestWithParam<std::tuple<const char*, int>> {};

TEST_P(RoundTrip, EveryShapeGivesBackItsValuesAndMetadata) {
  const std::string dtype = std::get<0>(GetParam());
  for (const Case& c : kShapes) {
    SCOPED_TRACE(c.name);
    round_trip(c.shape, dtype, true, std::get<1>(GetParam()));
  }
}

INSTANTIATE_TEST_SUITE_P(Dtypes, RoundTrip,
                         ::testing::Combine(::testing::Values("float16", "bfloat16", "float32"),
                                            ::testing::Values(0, 4)),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param)) + "_gzip" +
                                  std::to_string(std::get<1>(info.param));
                         });

TEST(RoundTripChunks, TensorsLongerThanOneChunkComeBackWhole) {
  // fp32 rows of 64 dims are 256 B: a chunk holds 1024 rows, so 2500 positions span three chunks per head.
  for (const char* dtype : {"float32", "float16"}) {
    SCOPED_TRACE(dtype);
    round_trip(Shape{2, 2, 1, 64, 2490, 10}, dtype, true, 1);
  }
}

TEST(RoundTripOptional, NoOutputsAndNoTokens) {
  ScratchDir dir("optional");
  InMemoryTrace t = test::random_trace(Shape{}, "float16", false, 3);
  t.m.tokens.clear();
  const std::string path = dir.file("t.h5");
  write_trace(t, path);
  const auto trace = open_trace(path);
  EXPECT_FALSE(trace->meta().has_outputs);
  EXPECT_TRUE(trace->meta().tokens.empty());
  std::vector<float> out;
  EXPECT_THROW(trace->outputs(0, 0, out), TraceError);
}

TEST(RoundTripPromptQueries, PositionsAndValuesComeBackInEveryDtype) {
  // Scattered positions, the first and last prompt positions included; and a run longer than one chunk.
  struct PromptCase {
    Shape shape;
    std::vector<int64_t> positions;
  };
  std::vector<int64_t> long_run;
  for (int64_t p = 100; p < 2490; ++p) long_run.push_back(p);
  const PromptCase cases[] = {{Shape{2, 4, 2, 8, 7, 3}, {0, 2, 3, 6}},
                              {Shape{1, 6, 3, 17, 9, 2}, {8}},
                              {Shape{1, 2, 1, 64, 2490, 2}, long_run}};
  for (const char* dtype : {"float16", "bfloat16", "float32"}) {
    for (const PromptCase& c : cases) {
      SCOPED_TRACE(std::string(dtype) + " with " + std::to_string(c.positions.size()) + " prompt queries");
      ScratchDir dir("prompt-queries");
      InMemoryTrace t = test::random_trace(c.shape, dtype, true, 21);
      test::add_prompt_queries(t, c.positions, 22);
      write_trace(t, dir.file("t.h5"), TraceWriteOptions{1});
      const auto trace = open_trace(dir.file("t.h5"));
      EXPECT_EQ(trace->meta().format_version, 2);
      expect_same_meta(t.m, trace->meta());
      expect_blocks(t.pq, t.m.num_q_heads, *trace, &TraceSource::prompt_queries, dtype, "prompt queries");
      expect_blocks(t.q, t.m.num_q_heads, *trace, &TraceSource::queries, dtype, "queries");
    }
  }
}

TEST(RoundTripPromptQueries, ATraceWithoutThemSaysSoWhenAsked) {
  ScratchDir dir("no-prompt-queries");
  const InMemoryTrace t = test::random_trace(Shape{}, "float16", true, 3);
  write_trace(t, dir.file("t.h5"));
  const auto trace = open_trace(dir.file("t.h5"));
  EXPECT_FALSE(trace->meta().has_prompt_queries());
  std::vector<float> out;
  try {
    trace->prompt_queries(0, 0, out);
    ADD_FAILURE() << "prompt_queries on a trace without them must throw";
  } catch (const TraceError& e) {
    EXPECT_NE(std::string(e.what()).find("stores none"), std::string::npos) << e.what();
  }
  EXPECT_THROW(t.prompt_queries(0, 0, out), TraceError);  // the in-memory trace agrees
}

TEST(RoundTripPromptQueries, ScanReadsThemToo) {
  ScratchDir dir("scan-prompt-queries");
  InMemoryTrace t = test::random_trace(Shape{}, "float32", true, 3);
  test::add_prompt_queries(t, {1, 4}, 5);
  t.pq[1][3][9] = 7.5f;  // larger than any random value in [-3, 3]
  write_trace(t, dir.file("t.h5"));
  const TraceScan scan = scan_trace(*open_trace(dir.file("t.h5")));
  EXPECT_EQ(scan.blocks, 2 * (2 + 2 + 4 + 4 + 4));
  EXPECT_EQ(scan.max_abs_prompt_query, 7.5);
}

TEST(RoundTripCopy, AFileTraceCanBeRewrittenInAnotherDtype) {
  // write_trace reads its source while it writes: a trace read from a file can be converted directly.
  ScratchDir dir("copy");
  const InMemoryTrace t = test::random_trace(Shape{}, "float32", true, 5);
  write_trace(t, dir.file("a.h5"));
  const auto a = open_trace(dir.file("a.h5"));
  struct Retyped : TraceSource {
    const TraceSource& base;
    TraceMeta m;
    explicit Retyped(const TraceSource& b) : base(b), m(b.meta()) { m.storage_dtype = "bfloat16"; }
    const TraceMeta& meta() const override { return m; }
    void keys(int l, int h, std::vector<float>& o) const override { base.keys(l, h, o); }
    void values(int l, int h, std::vector<float>& o) const override { base.values(l, h, o); }
    void queries(int l, int h, std::vector<float>& o) const override { base.queries(l, h, o); }
    void outputs(int l, int h, std::vector<float>& o) const override { base.outputs(l, h, o); }
  } retyped(*a);
  write_trace(retyped, dir.file("b.h5"));
  const auto b = open_trace(dir.file("b.h5"));
  EXPECT_EQ(b->meta().storage_dtype, "bfloat16");
  expect_blocks(t.k, t.m.num_kv_heads, *b, &TraceSource::keys, "bfloat16", "keys");
}

TEST(RoundTripDescribe, ListsDatasetsWithShapesChunksAndFilters) {
  ScratchDir dir("describe");
  const InMemoryTrace t = test::random_trace(Shape{2, 4, 2, 8, 5, 3}, "bfloat16", true, 9);
  write_trace(t, dir.file("t.h5"), TraceWriteOptions{4});
  const auto infos = describe_trace_datasets(dir.file("t.h5"));
  ASSERT_EQ(infos.size(), 6u);
  EXPECT_EQ(infos[0].name, "/keys");
  EXPECT_EQ(infos[0].shape, (std::vector<int64_t>{2, 2, 8, 8}));
  EXPECT_EQ(infos[0].chunk, (std::vector<int64_t>{1, 1, 8, 8}));
  EXPECT_EQ(infos[0].stored_as, "bfloat16 (as uint16)");
  EXPECT_EQ(infos[0].filters, "shuffle+gzip(4)");
  EXPECT_EQ(infos[2].name, "/queries");
  EXPECT_EQ(infos[2].shape, (std::vector<int64_t>{2, 4, 3, 8}));
  EXPECT_EQ(infos[4].name, "/tokens");
  EXPECT_EQ(infos[4].stored_as, "int32");
  EXPECT_EQ(infos[5].name, "/positions");
  EXPECT_EQ(infos[5].stored_as, "int64");

  InMemoryTrace with_prompt = t;
  test::add_prompt_queries(with_prompt, {2, 4}, 1);
  write_trace(with_prompt, dir.file("p.h5"), TraceWriteOptions{4});
  const auto more = describe_trace_datasets(dir.file("p.h5"));
  ASSERT_EQ(more.size(), 8u);
  EXPECT_EQ(more[4].name, "/prompt_queries");
  EXPECT_EQ(more[4].shape, (std::vector<int64_t>{2, 4, 2, 8}));
  EXPECT_EQ(more[4].stored_as, "bfloat16 (as uint16)");
  EXPECT_EQ(more[4].filters, "shuffle+gzip(4)");
  EXPECT_EQ(more[7].name, "/prompt_query_positions");
  EXPECT_EQ(more[7].shape, (std::vector<int64_t>{2}));
  EXPECT_EQ(more[7].stored_as, "int64");
}

}  // namespace
}  // namespace hgca::traces
