// The fit: recovers known parameters from a trace synthesized with them (round trip), and a trace synthesized
// from a fit reproduces the statistics of the trace it was fitted on within stated tolerances.
#include <gtest/gtest.h>

#include <cmath>

#include "synth_test_support.hpp"
#include "traces/synth/attention_stats.hpp"
#include "traces/synth/model_fit.hpp"
#include "traces/synth/synthetic_trace.hpp"

namespace hgca::traces::synth {
namespace {

constexpr int64_t kLength = 4096, kSteps = 16;

SyntheticTrace make(const AttentionModel& m, uint64_t seed) {
  SynthOptions o;
  o.length = kLength;
  o.decode_steps = kSteps;
  o.seed = seed;
  o.dtype = "float32";
  return SyntheticTrace(m, o);
}

FitOptions fit_options() {
  FitOptions f;
  f.sinks = 4;
  f.window = 256;
  f.eval_steps = 8;
  f.threads = 2;
  f.seed = 3;  // not the synthesis seed: the fit must not depend on seeing the same random numbers
  return f;
}

class FitRoundTrip : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    truth_ = new AttentionModel(test::known_model(1));
    const SyntheticTrace trace = make(*truth_, 21);
    fitted_ = new AttentionModel(fit_model(trace, fit_options()));
  }
  static void TearDownTestSuite() {
    delete truth_;
    delete fitted_;
  }
  static AttentionModel* truth_;
  static AttentionModel* fitted_;
};
AttentionModel* FitRoundTrip::truth_ = nullptr;
AttentionModel* FitRoundTrip::fitted_ = nullptr;

TEST_F(FitRoundTrip, RecoversTheDistanceTrend) {
  // Trend logits are relative: compare differences to a reference bin. The local head: every bin with
  // measurable mass. The retrieval head: octaves of 64+ keys (k >= 7); nearer octaves hold a handful of keys
  // whose mass is decided by where this one trace happens to put its spikes, which no fit can undo.
  auto check = [&](int h, int ref, int first, int last) {
    const HeadModel &t = truth_->heads[h], &f = fitted_->heads[h];
    ASSERT_EQ(f.trend.size(), static_cast<size_t>(bins_for_length(kLength)));
    for (int k = first; k <= last; ++k)
      EXPECT_NEAR(f.trend[k] - f.trend[ref], t.trend_logit(bin_first(k)) - t.trend_logit(bin_first(ref)), 0.5)
          << "head " << h << " bin " << k;
  };
  check(0, 0, 1, 8);
  check(1, 7, 8, 12);
  EXPECT_NEAR(fitted_->heads[0].tail_slope, truth_->heads[0].tail_slope, 0.25);
  EXPECT_NEAR(fitted_->heads[1].tail_slope, truth_->heads[1].tail_slope, 0.25);
}

TEST_F(FitRoundTrip, RecoversNoiseSpikesAndSinks) {
  const HeadModel &local = fitted_->heads[0], &retrieval = fitted_->heads[1];
  EXPECT_NEAR(local.noise_sigma, 1.0, 0.3);
  EXPECT_NEAR(retrieval.noise_sigma, 0.5, 0.3);
  // The local head: no spikes, or spikes too weak to matter (density x e^logit tiny next to the trend).
  if (local.spike_density > 0) {
    EXPECT_LT(local.spike_density * std::exp(local.spike_logit), 0.05);
  }
  // The retrieval head: spike mass (density x e^logit) within a factor 2 of the truth.
  const double want = truth_->heads[1].spike_density * std::exp(truth_->heads[1].spike_logit);
  const double got = retrieval.spike_density * std::exp(retrieval.spike_logit);
  EXPECT_GT(got, want / 2);
  EXPECT_LT(got, want * 2);
  // Sink logit relative to the trend at the sinks' distance.
  const double far = truth_->heads[1].trend_logit(kLength - 3);
  EXPECT_NEAR(retrieval.sink_logit + fitted_->heads[1].trend_logit(kLength - 3) - fitted_->heads[1].trend[0],
              truth_->heads[1].sink_logit + far - truth_->heads[1].trend[0], 0.6);
  EXPECT_LT(local.sink_logit, -10.0);  // no sink mass at all
  // 15 pairs of consecutive steps: the estimate of a correlation is noisy (docs/SYNTHESIS.md).
  EXPECT_NEAR(local.noise_correlation, 0.5, 0.2);
  EXPECT_NEAR(retrieval.noise_correlation, 0.8, 0.2);
}

// Stated tolerances (docs/SYNTHESIS.md): window and sink mass within 0.05 absolute, keys for 90% / 99% within
// 30% relative, entropy within 0.3 nats, for a trace synthesized from the fit with another seed.
TEST_F(FitRoundTrip, SynthesizedStatisticsMatchTheFittedTrace) {
  const StatsOptions so{4, 256};
  const std::vector<HeadStats> real = trace_stats(make(*truth_, 21), so);
  const std::vector<HeadStats> synth = trace_stats(make(*fitted_, 99), so);
  for (size_t i = 0; i < real.size(); ++i) {
    EXPECT_NEAR(synth[i].window_mass, real[i].window_mass, 0.05) << i;
    EXPECT_NEAR(synth[i].sink_mass, real[i].sink_mass, 0.05) << i;
    EXPECT_NEAR(std::log(synth[i].frac90 / real[i].frac90), 0.0, std::log(1.3)) << i;
    EXPECT_NEAR(std::log(synth[i].frac99 / real[i].frac99), 0.0, std::log(1.3)) << i;
    EXPECT_NEAR(synth[i].entropy, real[i].entropy, 0.3) << i;
    // The quality stamped into the model is the fit's own view of the same comparison.
    ASSERT_TRUE(fitted_->heads[i].real.has_value());
    EXPECT_NEAR(fitted_->heads[i].real->window_mass, real[i].window_mass, 1e-9);
  }
}

TEST(Fit, DeterministicWhateverTheThreads) {
  AttentionModel truth = test::known_model(1);
  const SyntheticTrace trace = make(truth, 5);
  FitOptions a = fit_options(), b = fit_options();
  a.threads = 1;
  b.threads = 2;
  a.eval_steps = b.eval_steps = 2;
  a.max_steps = b.max_steps = 4;
  EXPECT_EQ(model_to_text(fit_model(trace, a), false), model_to_text(fit_model(trace, b), false));
}

TEST(Fit, BadOptions) {
  const SyntheticTrace trace = make(test::known_model(1), 5);
  FitOptions f = fit_options();
  f.window = kLength + 1;
  EXPECT_THROW(fit_model(trace, f), ModelError);
  f = fit_options();
  f.sinks = kLength;
  EXPECT_THROW(fit_model(trace, f), ModelError);
  f = fit_options();
  f.eval_steps = 0;
  EXPECT_THROW(fit_model(trace, f), ModelError);
}

}  // namespace
}  // namespace hgca::traces::synth
