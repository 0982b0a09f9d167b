// Model files: YAML and JSON round trips, and every kind of bad file gives a one-line error naming the key.
#include <gtest/gtest.h>

#include <fstream>

#include "synth_test_support.hpp"
#include "traces/synth/attention_model.hpp"

namespace hgca::traces::synth {
namespace {

void expect_same(const AttentionModel& a, const AttentionModel& b) {
  EXPECT_EQ(a.num_layers, b.num_layers);
  EXPECT_EQ(a.num_q_heads, b.num_q_heads);
  EXPECT_EQ(a.num_kv_heads, b.num_kv_heads);
  EXPECT_EQ(a.head_dim, b.head_dim);
  EXPECT_DOUBLE_EQ(a.softmax_scale, b.softmax_scale);
  EXPECT_EQ(a.sinks, b.sinks);
  EXPECT_EQ(a.window, b.window);
  EXPECT_EQ(a.source_model, b.source_model);
  ASSERT_EQ(a.heads.size(), b.heads.size());
  for (size_t i = 0; i < a.heads.size(); ++i) {
    const HeadModel &x = a.heads[i], &y = b.heads[i];
    ASSERT_EQ(x.trend.size(), y.trend.size());
    for (size_t k = 0; k < x.trend.size(); ++k) EXPECT_NEAR(x.trend[k], y.trend[k], 1e-8 * (1 + std::abs(x.trend[k])));
    EXPECT_NEAR(x.tail_slope, y.tail_slope, 1e-8);
    EXPECT_NEAR(x.sink_logit, y.sink_logit, 1e-7);
    EXPECT_NEAR(x.noise_sigma, y.noise_sigma, 1e-8);
    EXPECT_NEAR(x.noise_correlation, y.noise_correlation, 1e-8);
    EXPECT_NEAR(x.spike_density, y.spike_density, 1e-10);
    EXPECT_NEAR(x.spike_logit, y.spike_logit, 1e-8);
    EXPECT_EQ(x.real.has_value(), y.real.has_value());
  }
}

TEST(ModelFile, RoundTripsYamlAndJson) {
  test::ScratchDir dir("io");
  AttentionModel m = test::known_model(2);
  m.heads[1].real = StatsSummary{0.1, 0.5, 0.02, 0.3, 4.5};
  m.heads[1].fitted = StatsSummary{0.11, 0.49, 0.021, 0.31, 4.4};
  for (const char* name : {"m.yaml", "m.json"}) {
    save_model(m, dir.file(name));
    const AttentionModel back = load_model(dir.file(name));
    expect_same(m, back);
    ASSERT_TRUE(back.heads[1].fitted.has_value());
    EXPECT_NEAR(back.heads[1].fitted->frac99, 0.31, 1e-12);
  }
  std::ifstream json(dir.file("m.json"));
  std::string first;
  std::getline(json, first);
  EXPECT_EQ(first, "{");  // really JSON, not YAML in a .json file
}

TEST(ModelFile, SpikeLevels) {
  for (int r = 0; r < kSpikeLevels; ++r) EXPECT_EQ(nearest_spike_level(spike_level_density(r)), r);
  EXPECT_EQ(nearest_spike_level(0.0), -1);
  HeadModel h;
  h.trend = {0.0};
  h.spike_density = 0.003;  // between levels: nearest level, logit shifted to keep density * e^logit
  h.spike_logit = 5.0;
  const SpikeRealization r = h.spikes();
  ASSERT_GE(r.level, 0);
  EXPECT_NEAR(spike_level_density(r.level) * std::exp(r.logit), 0.003 * std::exp(5.0), 1e-9);
}

TEST(ModelFile, TrendExtendsWithTailSlope) {
  HeadModel h;
  h.trend = {0.0, -1.0, -2.0};
  h.tail_slope = -0.5;
  EXPECT_EQ(h.trend_logit(0), 0.0);
  EXPECT_EQ(h.trend_logit(1), -1.0);
  EXPECT_EQ(h.trend_logit(3), -2.0);
  EXPECT_EQ(h.trend_logit(4), -2.5);   // bin 3
  EXPECT_EQ(h.trend_logit(100), -4.5);  // bin 7: -2 + 5 x -0.5
}

// Writes `text` and expects load_model to fail with a message containing every piece of `expect`.
void expect_error(const std::string& text, std::initializer_list<const char*> expect) {
  test::ScratchDir dir("bad");
  const std::string path = dir.file("bad.yaml");
  std::ofstream(path) << text;
  try {
    load_model(path);
    FAIL() << "accepted:\n" << text;
  } catch (const ModelError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    for (const char* piece : expect) EXPECT_NE(msg.find(piece), std::string::npos) << msg << " lacks " << piece;
  }
}

std::string good_text() { return model_to_text(test::known_model(1), false); }

std::string replace(std::string s, const std::string& from, const std::string& to) {
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return at == std::string::npos ? s : s.replace(at, from.size(), to);
}

TEST(ModelFile, BadFiles) {
  EXPECT_THROW(load_model("/nonexistent/model.yaml"), ModelError);
  expect_error("heads: [1, 2\n", {"not valid YAML"});
  expect_error("- 1\n- 2\n", {"expected a mapping"});
  expect_error(replace(good_text(), "format: hgca-attention-model", "format: other"), {"format"});
  expect_error(replace(good_text(), "version: 1", "version: 7"), {"version", "unsupported"});
  expect_error(replace(good_text(), "sinks: 4", "sinkz: 4"), {"sinkz", "unknown key"});
  expect_error(replace(good_text(), "window: 256\n", ""), {"window", "missing"});
  expect_error(replace(good_text(), "softmax_scale: 0.125", "softmax_scale: abc"), {"shape.softmax_scale", "number"});
  expect_error(replace(good_text(), "sigma: 1,", "sigma: .nan,"), {"heads[0].noise.sigma"});
  expect_error(replace(good_text(), "sigma: 1,", "sigma: -2,"), {"heads[0].noise.sigma"});
  expect_error(replace(good_text(), "step_correlation: 0.5", "step_correlation: 1.5"), {"step_correlation"});
  expect_error(replace(good_text(), "head: 1", "head: 0"), {"heads[1]", "layer-major"});
  expect_error(replace(good_text(), "kv_heads: 1", "kv_heads: 3"), {"shape.kv_heads", "multiple"});
  expect_error(replace(good_text(), "trend: [", "trend: [oops, "), {"heads[0].trend[0]"});
  expect_error(replace(good_text(), "density: 0", "density: 0.9"), {"heads[0].spikes.density"});
}

TEST(ModelFile, SaveIsAtomic) {
  test::ScratchDir dir("atomic");
  AttentionModel bad = test::known_model(1);
  bad.heads[0].noise_sigma = -1.0;
  EXPECT_THROW(save_model(bad, dir.file("m.yaml")), ModelError);
  EXPECT_EQ(dir.entry_count(), 0u);
  EXPECT_THROW(save_model(test::known_model(1), dir.file("missing-dir/m.yaml")), ModelError);
  EXPECT_EQ(dir.entry_count(), 0u);
}

}  // namespace
}  // namespace hgca::traces::synth
