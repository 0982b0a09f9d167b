// attention_stats against hand computations and an independent Eigen double-precision softmax.
#include <gtest/gtest.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>

#include "traces/synth/attention_stats.hpp"

namespace hgca::traces::synth {
namespace {

TEST(DistanceBins, Octaves) {
  EXPECT_EQ(distance_bin(0), 0);
  EXPECT_EQ(distance_bin(1), 1);
  EXPECT_EQ(distance_bin(2), 2);
  EXPECT_EQ(distance_bin(3), 2);
  EXPECT_EQ(distance_bin(4), 3);
  EXPECT_EQ(distance_bin(7), 3);
  EXPECT_EQ(distance_bin(8), 4);
  EXPECT_EQ(distance_bin(1 << 20), 21);
  for (int k = 0; k < 30; ++k) {
    EXPECT_EQ(distance_bin(bin_first(k)), k);
    EXPECT_EQ(distance_bin(bin_first(k) + bin_size(k) - 1), k);
  }
  EXPECT_EQ(bins_for_length(1), 1);
  EXPECT_EQ(bins_for_length(8192), 14);  // distances 0..8191
}

TEST(SampleSteps, EvenlySpacedWithTheLast) {
  EXPECT_EQ(sample_steps(5, 0), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(sample_steps(5, 9), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(sample_steps(100, 4), (std::vector<int64_t>{24, 49, 74, 99}));
  EXPECT_EQ(sample_steps(10, 1), (std::vector<int64_t>{9}));
}

// One step by hand: weights 8:4:2:1:1 over 5 positions (the query at position 4).
TEST(StatsAccumulator, HandComputedStep) {
  const std::vector<double> logits = {std::log(1.0), std::log(2.0), std::log(8.0), std::log(4.0), std::log(1.0)};
  StatsAccumulator acc(StatsOptions{1, 2});  // sink: position 0; window: positions 3, 4
  acc.add_step(logits);
  const HeadStats s = acc.result(0, 0);
  const double p[] = {1 / 16.0, 2 / 16.0, 8 / 16.0, 4 / 16.0, 1 / 16.0};
  EXPECT_EQ(s.steps, 1);
  EXPECT_DOUBLE_EQ(s.sink_mass, p[0]);
  EXPECT_DOUBLE_EQ(s.window_mass, p[3] + p[4]);
  // Sorted: 8, 4, 2, 1, 1 (/16): 0.5, 0.75, 0.875, 0.9375 -> 4 keys for 90%, 5 for 99%.
  EXPECT_EQ(s.keys90, 4);
  EXPECT_EQ(s.keys99, 5);
  EXPECT_DOUBLE_EQ(s.frac90, 4 / 5.0);
  EXPECT_DOUBLE_EQ(s.frac99, 1.0);
  double h = 0;
  for (double x : p) h -= x * std::log(x);
  EXPECT_NEAR(s.entropy, h, 1e-12);
  // Distance bins of non-sink keys: d=0 (pos 4), d=1 (pos 3), d in [2,3] (pos 2, 1).
  ASSERT_GE(s.bin_mass.size(), 3u);
  EXPECT_DOUBLE_EQ(s.bin_mass[0], p[4]);
  EXPECT_DOUBLE_EQ(s.bin_mass[1], p[3]);
  EXPECT_NEAR(s.bin_mass[2], p[2] + p[1], 1e-15);
}

TEST(StatsAccumulator, AdditiveConstantDoesNotMatter) {
  std::vector<double> a = {0.3, -1.0, 2.5, 0.0, 1.0, -3.0}, b = a;
  for (double& x : b) x += 700.0;  // would overflow exp() without the max shift
  StatsAccumulator sa(StatsOptions{2, 3}), sb(StatsOptions{2, 3});
  sa.add_step(a);
  sb.add_step(b);
  const HeadStats x = sa.result(0, 0), y = sb.result(0, 0);
  EXPECT_NEAR(x.window_mass, y.window_mass, 1e-12);
  EXPECT_NEAR(x.entropy, y.entropy, 1e-9);
  EXPECT_EQ(x.keys90, y.keys90);
}

TEST(StatsAccumulator, UniformNeedsTheRightShare) {
  StatsAccumulator acc(StatsOptions{0, 10});
  acc.add_step(std::vector<double>(1000, 0.25));
  const HeadStats s = acc.result(0, 0);
  EXPECT_EQ(s.keys90, 900);
  EXPECT_EQ(s.keys99, 990);
  EXPECT_NEAR(s.entropy, std::log(1000.0), 1e-9);
  EXPECT_NEAR(s.window_mass, 0.01, 1e-12);
}

// A hand-made trace: every statistic recomputed with an Eigen double softmax, in a separate implementation.
TEST(TraceStats, MatchesEigenDoubleReference) {
  InMemoryTrace t;
  t.m.num_layers = 2;
  t.m.num_q_heads = 4;
  t.m.num_kv_heads = 2;
  t.m.head_dim = 8;
  t.m.prompt_length = 37;
  t.m.decode_steps = 5;
  t.m.softmax_scale = 0.5;
  t.m.storage_dtype = "float32";
  const int64_t n = t.m.num_positions(), d = t.m.head_dim;
  uint32_t state = 12345;
  auto rnd = [&] {
    state = state * 1664525u + 1013904223u;
    return static_cast<float>((state >> 8) * (6.0 / 16777216.0) - 3.0);
  };
  t.k.assign(2, std::vector<std::vector<float>>(2));
  t.v = t.k;
  t.q.assign(2, std::vector<std::vector<float>>(4));
  for (int l = 0; l < 2; ++l) {
    for (int h = 0; h < 2; ++h) {
      for (int64_t i = 0; i < n * d; ++i) t.k[l][h].push_back(rnd()), t.v[l][h].push_back(rnd());
    }
    for (int h = 0; h < 4; ++h)
      for (int64_t i = 0; i < t.m.decode_steps * d; ++i) t.q[l][h].push_back(rnd());
  }
  t.validate();
  const StatsOptions opt{3, 7};
  const std::vector<HeadStats> got = trace_stats(t, opt);
  ASSERT_EQ(got.size(), 8u);
  for (int l = 0; l < 2; ++l) {
    for (int h = 0; h < 4; ++h) {
      const int kv = h / 2;
      double sink = 0, window = 0, f90 = 0, f99 = 0, ent = 0;
      for (int64_t step = 0; step < t.m.decode_steps; ++step) {
        const int64_t p = t.m.prompt_length + step;
        Eigen::VectorXd q(d);
        for (int64_t c = 0; c < d; ++c) q[c] = t.q[l][h][step * d + c];
        Eigen::VectorXd s(p + 1);
        for (int64_t j = 0; j <= p; ++j) {
          Eigen::VectorXd k(d);
          for (int64_t c = 0; c < d; ++c) k[c] = t.k[l][kv][j * d + c];
          s[j] = 0.5 * q.dot(k);
        }
        const Eigen::VectorXd w = (s.array() - s.maxCoeff()).exp();
        const Eigen::VectorXd prob = w / w.sum();
        sink += prob.head(3).sum();
        window += prob.tail(7).sum();
        ent += -(prob.array() * prob.array().log()).sum();
        std::vector<double> sorted(prob.data(), prob.data() + p + 1);
        std::sort(sorted.begin(), sorted.end(), std::greater<double>());
        double run = 0;
        int64_t k90 = 0, k99 = 0;
        for (size_t i = 0; i < sorted.size(); ++i) {
          run += sorted[i];
          if (!k90 && run >= 0.9) k90 = static_cast<int64_t>(i) + 1;
          if (!k99 && run >= 0.99) k99 = static_cast<int64_t>(i) + 1;
        }
        f90 += static_cast<double>(k90) / (p + 1);
        f99 += static_cast<double>(k99) / (p + 1);
      }
      const double S = static_cast<double>(t.m.decode_steps);
      const HeadStats& g = got[l * 4 + h];
      EXPECT_EQ(g.layer, l);
      EXPECT_EQ(g.head, h);
      EXPECT_NEAR(g.sink_mass, sink / S, 1e-5);
      EXPECT_NEAR(g.window_mass, window / S, 1e-5);
      EXPECT_NEAR(g.frac90, f90 / S, 1e-12);
      EXPECT_NEAR(g.frac99, f99 / S, 1e-12);
      EXPECT_NEAR(g.entropy, ent / S, 1e-4);
    }
  }
}

TEST(TraceStats, RejectsBadOptions) {
  EXPECT_THROW(check_stats_options(StatsOptions{-1, 4}, 100, "t"), TraceError);
  EXPECT_THROW(check_stats_options(StatsOptions{0, 0}, 100, "t"), TraceError);
  try {
    check_stats_options(StatsOptions{4, 200}, 100, "trace.h5");
    FAIL() << "window longer than the trace accepted";
  } catch (const TraceError& e) {
    EXPECT_NE(std::string(e.what()).find("trace.h5: window 200"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace hgca::traces::synth
