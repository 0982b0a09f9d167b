// The synthesizer: realized q . k logits equal the model's logits, determinism, streaming through the HDF5
// writer, statistics close to the model's, and bad parameters.
#include <gtest/gtest.h>

#include <cmath>

#include "synth_test_support.hpp"
#include "traces/synth/attention_stats.hpp"
#include "traces/synth/synthetic_trace.hpp"

namespace hgca::traces::synth {
namespace {

SynthOptions options(int64_t length, int64_t steps, uint64_t seed = 7, int threads = 1) {
  SynthOptions o;
  o.length = length;
  o.decode_steps = steps;
  o.seed = seed;
  o.dtype = "float32";
  o.threads = threads;
  return o;
}

// softmax_scale * q . k in double from the synthesizer's own vectors.
double realized_logit(const SyntheticTrace& s, const std::vector<float>& k, const std::vector<float>& q, int64_t t,
                      int64_t j) {
  const int d = s.meta().head_dim;
  double dot = 0;
  for (int c = 0; c < d; ++c) dot += static_cast<double>(q[t * d + c]) * k[j * d + c];
  return s.meta().softmax_scale * dot;
}

TEST(SyntheticTrace, LogitsAreTheModelsWhenEveryStepIsAnAnchor) {
  const SyntheticTrace s(test::known_model(1), options(3000, 20));
  ASSERT_LE(20, s.layout().anchors_per_head);  // 23 for head_dim 64, two query heads per KV head
  std::vector<float> k, q;
  s.keys(0, 0, k);
  for (int h = 0; h < 2; ++h) {
    s.queries(0, h, q);
    for (int64_t t : {0, 7, 19}) {
      const int64_t p = s.meta().prompt_length + t;
      double worst = 0;
      for (int64_t j = 0; j <= p; ++j)
        worst = std::max(worst, std::abs(realized_logit(s, k, q, t, j) - s.target_logit(0, h, t, j)));
      EXPECT_LT(worst, 2e-4) << "head " << h << " step " << t;
    }
  }
}

TEST(SyntheticTrace, InterpolatedAnchorsAreCloseAwayFromTheQuery) {
  const SyntheticTrace s(test::known_model(1), options(4000, 100));
  ASSERT_LT(s.layout().anchors_per_head, 100);
  std::vector<float> k, q;
  s.keys(0, 0, k);
  s.queries(0, 0, q);
  for (int64_t t : {0, 33, 50, 99}) {
    const int64_t p = s.meta().prompt_length + t;
    double worst = 0;
    // Octave-constant trend and anchors 4.5 positions apart: keys 32+ positions back see at most one
    // octave boundary between neighbouring anchors, mixed linearly (at most one octave step of 1.2 logits).
    for (int64_t j = 0; j + 32 <= p; ++j)
      worst = std::max(worst, std::abs(realized_logit(s, k, q, t, j) - s.target_logit(0, 0, t, j)));
    EXPECT_LE(worst, 1.2 + 1e-3) << "step " << t;
  }
}

TEST(SyntheticTrace, DeterministicForASeedWhateverTheThreads) {
  const SyntheticTrace a(test::known_model(2), options(20000, 8, 11, 1));
  const SyntheticTrace b(test::known_model(2), options(20000, 8, 11, 3));
  const SyntheticTrace c(test::known_model(2), options(20000, 8, 12, 1));
  std::vector<float> x, y, z;
  a.keys(1, 0, x), b.keys(1, 0, y), c.keys(1, 0, z);
  EXPECT_EQ(x, y);
  EXPECT_NE(x, z);
  a.values(1, 0, x), b.values(1, 0, y), c.values(1, 0, z);
  EXPECT_EQ(x, y);
  EXPECT_NE(x, z);
  a.queries(1, 1, x), b.queries(1, 1, y), c.queries(1, 1, z);
  EXPECT_EQ(x, y);
  EXPECT_NE(x, z);
  // Heads and layers draw different numbers.
  a.keys(0, 0, y);
  a.keys(1, 0, x);
  EXPECT_NE(x, y);
}

TEST(SyntheticTrace, MetadataDescribesASyntheticTrace) {
  SynthOptions o = options(5000, 16);
  o.dtype = "bfloat16";
  o.model_source = "m.yaml";
  const SyntheticTrace s(test::known_model(1), o);
  const TraceMeta& m = s.meta();
  EXPECT_EQ(m.num_positions(), 5000);
  EXPECT_EQ(m.prompt_length, 4984);
  EXPECT_EQ(m.storage_dtype, "bfloat16");
  EXPECT_EQ(m.decode_mode, "synthetic");
  EXPECT_EQ(m.source, "synth:m.yaml seed=7");
  EXPECT_FALSE(m.has_outputs);
  EXPECT_NO_THROW(validate_meta(m, "synthetic"));
  std::vector<float> out;
  EXPECT_THROW(s.outputs(0, 0, out), TraceError);
  EXPECT_THROW(s.keys(1, 0, out), TraceError);
  EXPECT_THROW(s.queries(0, 2, out), TraceError);
}

// The noise of a key moves between consecutive steps with the model's correlation, and has unit variance
// over keys before scaling by sigma.
TEST(SyntheticTrace, NoiseCorrelationBetweenSteps) {
  AttentionModel m = test::known_model(1);
  m.heads[0].noise_correlation = 0.6;
  const SyntheticTrace s(m, options(30000, 40));
  std::vector<double> u;
  s.query_noise_directions(0, 0, u);
  const int c = SynthLayout::kNoiseDims;
  double sxy = 0, sxx = 0, syy = 0;
  std::vector<double> e(c);
  for (int64_t j = 4; j < 3000; ++j) {
    for (int i = 0; i < c; ++i) e[i] = key_noise(7, 0, 0, j, i);
    for (int64_t t = 0; t + 1 < 40; ++t) {
      double a = 0, b = 0;
      for (int i = 0; i < c; ++i) a += u[t * c + i] * e[i], b += u[(t + 1) * c + i] * e[i];
      sxy += a * b, sxx += a * a, syy += b * b;
    }
  }
  EXPECT_NEAR(sxy / std::sqrt(sxx * syy), 0.6, 0.1);
  EXPECT_NEAR(sxx / (2996.0 * 39.0), 1.0, 0.1);
}

TEST(SyntheticTrace, BadParameters) {
  auto msg = [](AttentionModel m, SynthOptions o) -> std::string {
    try {
      SyntheticTrace s(std::move(m), o);
    } catch (const std::exception& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(msg(test::known_model(1), options(200, 8)).find("shorter than the model's window"), std::string::npos);
  EXPECT_NE(msg(test::known_model(1), options(1000, 1000)).find("must exceed --decode-steps"), std::string::npos);
  EXPECT_NE(msg(test::known_model(1), options(1000, 0)).find("--decode-steps must be >= 1"), std::string::npos);
  SynthOptions bad_dtype = options(1000, 8);
  bad_dtype.dtype = "int8";
  EXPECT_NE(msg(test::known_model(1), bad_dtype).find("--dtype"), std::string::npos);
  AttentionModel small = test::known_model(1);
  small.head_dim = 20;
  EXPECT_NE(msg(small, options(1000, 8)).find("too small to synthesize"), std::string::npos);
  AttentionModel broken = test::known_model(1);
  broken.heads[0].trend.clear();
  EXPECT_NE(msg(broken, options(1000, 8)).find("heads[0].trend"), std::string::npos);
}

}  // namespace
}  // namespace hgca::traces::synth
