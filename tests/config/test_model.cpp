// Model files: shape, dtypes and their byte sizes, defaults, and validation errors.
#include <gtest/gtest.h>

#include "config_test_support.hpp"
#include "sim/config/loader.hpp"

namespace hgca {
namespace {

using testing::contains;
using testing::error_of;
using testing::kModelYaml;
using testing::replace_line;

class ModelFile : public ::testing::Test {
 protected:
  std::string error_for(const std::string& text) {
    const std::string file = dir_.write("model.yaml", text);
    return error_of([&] { load_model(file); });
  }
  std::string at(int line) const { return (dir_.path() / "model.yaml").string() + ":" + std::to_string(line) + ": "; }
  testing::ScratchDir dir_;
};

TEST_F(ModelFile, ReadsTheShape) {
  const ModelShape m = load_model(dir_.write("model.yaml", kModelYaml));
  EXPECT_EQ(m.name, "test-model");
  EXPECT_EQ(m.source, "unit test");
  EXPECT_EQ(m.layers, 32);
  EXPECT_EQ(m.q_heads, 32);
  EXPECT_EQ(m.kv_heads, 8);
  EXPECT_EQ(m.head_dim, 128);
  EXPECT_EQ(m.hidden, 4096);
  EXPECT_EQ(m.intermediate, 14336);
  EXPECT_EQ(m.vocab, 128256);
  EXPECT_TRUE(m.gated_mlp);         // default
  EXPECT_FALSE(m.tied_embeddings);  // default
  EXPECT_EQ(m.weight_dtype, "bf16");
  EXPECT_EQ(m.weight_bytes_per_param, 2.0);
  EXPECT_EQ(m.kv_dtype, "fp16");
  EXPECT_EQ(m.kv_bytes_per_elem, 2.0);
}

TEST_F(ModelFile, EveryDtypeHasItsSize) {
  const std::vector<std::pair<std::string, double>> expected = {{"fp32", 4}, {"fp16", 2}, {"bf16", 2},
                                                                {"fp8", 1},  {"int8", 1}, {"int4", 0.5}};
  for (const auto& [dtype, bytes] : expected) {
    std::string text = replace_line(kModelYaml, "kv_dtype: fp16", "kv_dtype: " + dtype);
    text = replace_line(text, "weight_dtype: bf16", "weight_dtype: " + dtype);
    const ModelShape m = load_model(dir_.write("model.yaml", text));
    EXPECT_EQ(m.kv_bytes_per_elem, bytes) << dtype;
    EXPECT_EQ(m.weight_bytes_per_param, bytes) << dtype;
  }
}

TEST_F(ModelFile, Defaults) {
  std::string text = replace_line(kModelYaml, "kv_dtype: fp16", "");
  text = replace_line(text, "weight_dtype: bf16", "");
  text = replace_line(text, "name: test-model", "gated_mlp: false\ntied_embeddings: true");
  const ModelShape m = load_model(dir_.write("tiny-llm.yaml", text));
  EXPECT_EQ(m.name, "tiny-llm");
  EXPECT_EQ(m.kv_dtype, "bf16");
  EXPECT_EQ(m.weight_dtype, "bf16");
  EXPECT_FALSE(m.gated_mlp);
  EXPECT_TRUE(m.tied_embeddings);
}

TEST_F(ModelFile, Errors) {
  EXPECT_TRUE(contains(error_for(replace_line(kModelYaml, "q_heads: 32", "q_heads: 30")),
                       at(5) + "kv_heads: q_heads (30) is not a multiple of kv_heads (8)"));
  EXPECT_TRUE(contains(error_for(replace_line(kModelYaml, "layers: 32", "layers: 0")),
                       at(3) + "layers: must be at least 1, got 0"));
  EXPECT_TRUE(contains(error_for(replace_line(kModelYaml, "kv_heads: 8", "kv_heads: -8")),
                       at(5) + "kv_heads: must be at least 1"));
  EXPECT_TRUE(contains(error_for(replace_line(kModelYaml, "q_heads: 32", "q_heads: 0")),
                       at(4) + "q_heads: must be at least 1"));
  EXPECT_TRUE(contains(
      error_for(replace_line(kModelYaml, "kv_dtype: fp16", "kv_dtype: bf61")),
      at(11) +
          "kv_dtype: unknown dtype 'bf61' (did you mean 'bf16'?); expected one of fp32, fp16, bf16, fp8, int8, int4"));
  EXPECT_TRUE(
      contains(error_for(replace_line(kModelYaml, "vocab: 128256", "")), at(1) + "vocab: missing required key"));
  EXPECT_TRUE(contains(error_for(replace_line(kModelYaml, "vocab: 128256", "vocab: 128256\nheads: 4")),
                       at(10) + "heads: unknown key"));
  EXPECT_TRUE(contains(error_for(replace_line(kModelYaml, "layers: 32", "layers: 99999999999")),
                       at(3) + "layers: 99999999999 is too large"));
}

}  // namespace
}  // namespace hgca
