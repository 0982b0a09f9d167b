#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "sim/results/run_codec.hpp"
#include "sim/results/scalar_fields.hpp"
#include "tests/results/sample_runs.hpp"

namespace hgca {
namespace {

RunResult everything() {
  RunResult r = test::fully_populated_run();
  r.timeline = {{"GPU compute", "L0 qkv", 1e-6, 2.5e-6, 0, 0}, {"CPU core 3", "L1 attn \"x\"", 0.1, 0.2, -1, 1}};
  r.parameters = {{"hardware.cpu.cores", "", false, 32, ""},
                  {"system.selection_method", "", true, 0, "key-scan"},
                  {"selection.mean_fraction", "", false, std::numeric_limits<double>::quiet_NaN(), ""}};
  r.head_selection = {2, 3, {0.1, 0.2, 0.3, 0.4, 0.5, 1e-300}};
  return r;
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

TEST(RunCodec, EveryMemberSurvivesBitForBit) {
  const RunResult a = everything();
  const RunResult b = decode_run(encode_run(a));
  for (const auto& field : scalar_fields()) {
    EXPECT_EQ(field.get(a), field.get(b)) << field.name;
  }
  EXPECT_EQ(a.step_latency_s, b.step_latency_s);
  ASSERT_EQ(b.timeline.size(), 2u);
  EXPECT_EQ(b.timeline[1].name, "L1 attn \"x\"");
  EXPECT_EQ(b.timeline[1].step, -1);
  EXPECT_EQ(b.timeline[0].dur_s, 2.5e-6);
  ASSERT_EQ(b.parameters.size(), 3u);
  EXPECT_EQ(b.parameters[0].number, 32);
  EXPECT_TRUE(b.parameters[1].is_text);
  EXPECT_EQ(b.parameters[1].text, "key-scan");
  EXPECT_TRUE(same_bits(a.parameters[2].number, b.parameters[2].number));
  EXPECT_EQ(b.head_selection.layers, 2);
  EXPECT_EQ(b.head_selection.heads, 3);
  EXPECT_EQ(b.head_selection.fraction, a.head_selection.fraction);
  EXPECT_EQ(encode_run(b), encode_run(a));
}

TEST(RunCodec, TruncatedOrPaddedBytesAreRejected) {
  const std::string bytes = encode_run(everything());
  for (size_t cut : {size_t{0}, size_t{7}, bytes.size() / 2, bytes.size() - 1}) {
    EXPECT_THROW(decode_run(std::string_view(bytes).substr(0, cut)), std::runtime_error) << cut;
  }
  EXPECT_THROW(decode_run(bytes + "x"), std::runtime_error);
}

TEST(RunCodec, BytesOfAnotherSchemaAreRejected) {
  std::string bytes = encode_run(everything());
  bytes[0] ^= 1;  // the schema tag comes first
  try {
    decode_run(bytes);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "run record: written by a build with other result fields");
  }
}

TEST(RunCodec, Fnv1aMatchesThePublishedTestVectors) {
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(fnv1a64("foobar"), 0x85944171f73967e8ull);
}

}  // namespace
}  // namespace hgca
