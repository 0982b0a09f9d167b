#include "traces/synth/model_fit.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <thread>

#include "traces/synth/attention_stats.hpp"
#include "traces/synth/counter_rng.hpp"
#include "traces/synth/synthetic_trace.hpp"

namespace hgca::traces::synth {

namespace {

constexpr double kTinyMass = 1e-12;
constexpr double kSigmaMax = 16.0;

StatsSummary summary_of(const HeadStats& s) {
  return StatsSummary{s.sink_mass, s.window_mass, s.frac90, s.frac99, s.entropy};
}

// What the logits say directly (direct_estimates below).
struct DirectEstimate {
  double sigma = 0, spike_density = 0, spike_logit = 0, correlation = 0;
  std::vector<int64_t> spike_positions;  // keys above the threshold in any analysed step (left out of the
                                         // octave masses the trend is calibrated on)
};

// Inverse of the standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9).
double normal_quantile(double p) {
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                             1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01, -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549671010322304e+00, 4.374664141464968e+00, 2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  if (p < 0.02425) {
    const double q = std::sqrt(-2 * std::log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - 0.02425) return -normal_quantile(1 - p);
  const double q = p - 0.5, r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

constexpr int64_t kFar = 32;  // keys at least this far from a query are "far" (reference levels, spikes)

// The model of one head evaluated on `eval_steps` decode positions of the trace's length: everything but the
// parameters is precomputed. Spikes sit on randomly tagged keys exactly as in the synthesizer; the noise of each distance octave is
// stratified (the octave's values over all evaluation steps are the normal quantiles in a seeded random
// order), so that even octaves of one or two keys see a representative sample of the noise.
class HeadEvaluator {
 public:
  HeadEvaluator(const TraceMeta& meta, const FitOptions& opt, int layer, int head)
      : opt_(opt), spike_(static_cast<size_t>(meta.num_positions()), 0), excluded_(spike_.size(), 0) {
    const CounterRng rng(opt.seed, stream_id(Stream::kEvalNoise, layer, head));
    const int kv = meta.kv_head_of(head);
    for (int64_t j = opt.sinks; j < meta.num_positions(); ++j)
      for (int r = 0; r < kSpikeLevels; ++r)
        if (key_tagged(opt.seed, layer, kv, j, r)) spike_[j] |= static_cast<uint8_t>(1u << r);

    struct Slot {
      uint64_t order;
      uint32_t step;
      int64_t position;
    };
    std::vector<std::vector<Slot>> groups(65);  // distance octaves 0..63, sinks in 64
    for (int64_t t : sample_steps(meta.decode_steps, opt.eval_steps)) {
      const int64_t p = meta.prompt_length + t;
      Step s;
      s.bin.resize(p + 1);
      s.noise.resize(p + 1);
      for (int64_t j = 0; j <= p; ++j) {
        s.bin[j] = static_cast<uint8_t>(distance_bin(p - j));
        groups[j < opt.sinks ? 64 : s.bin[j]].push_back(
            Slot{rng.bits(static_cast<uint64_t>(j), static_cast<uint64_t>(t)), static_cast<uint32_t>(steps_.size()), j});
      }
      steps_.push_back(std::move(s));
    }
    for (auto& g : groups) {
      std::sort(g.begin(), g.end(), [](const Slot& x, const Slot& y) { return x.order < y.order; });
      for (size_t r = 0; r < g.size(); ++r)
        steps_[g[r].step].noise[g[r].position] = static_cast<float>(normal_quantile((r + 0.5) / g.size()));
    }
  }

  // `source`: which keys carry h.spike_logit: the keys tagged on density level `source` (as the synthesizer
  // tags them, with the fit seed), or none (-1). With spikes, bin_mass leaves the spike keys out.
  HeadStats evaluate(const HeadModel& h, int source) const {
    StatsAccumulator acc(StatsOptions{opt_.sinks, opt_.window});
    std::vector<double> table(64);
    for (int k = 0; k < 64; ++k) table[k] = h.trend_logit(bin_first(k));
    const double spike = source >= 0 ? h.spike_logit : 0.0;
    const uint8_t bit = source >= 0 ? static_cast<uint8_t>(1u << source) : 0;

    std::vector<double> row;
    if (source >= 0)
      for (size_t j = 0; j < spike_.size(); ++j) excluded_[j] = (spike_[j] & bit) ? 1 : 0;
    for (const Step& s : steps_) {
      const int64_t n = static_cast<int64_t>(s.bin.size());
      row.resize(n);
      for (int64_t j = 0; j < n; ++j) {
        double x = table[s.bin[j]] + h.noise_sigma * s.noise[j];
        if (j < opt_.sinks) x += h.sink_logit;
        if (spike_[j] & bit) x += spike;
        row[j] = x;
      }
      if (source >= 0) acc.add_step(row, std::span<const uint8_t>(excluded_.data(), static_cast<size_t>(n)));
      else acc.add_step(row);
    }
    return acc.result(h.layer, h.head);
  }

 private:
  struct Step {
    std::vector<uint8_t> bin;
    std::vector<float> noise;
  };
  FitOptions opt_;
  std::vector<uint8_t> spike_;  // bit r: tagged on level r, as the synthesizer tags keys
  mutable std::vector<uint8_t> excluded_;  // scratch: the spike keys of the level being evaluated
  std::vector<Step> steps_;
};

// Moves the trend and sink logit so that the model's mass per distance octave and on the sinks match the
// real ones (multiplicative fixed point in mass: logit += ln(real / model)).
// With spikes the octave masses compared leave out the spike keys on both sides (the trace's identified
// spikes, the model's tagged keys), so that where this one trace happens to have its spikes does not bend
// the trend.
struct Targets {
  HeadStats all;   // statistics of the trace
  HeadStats kept;  // the same with bin_mass over keys not identified as spikes
};

HeadStats calibrate(const HeadEvaluator& ev, int source, const Targets& target, HeadModel& h, int64_t sinks,
                    int rounds) {
  const HeadStats& real = target.all;
  const std::vector<double>& want_bins = source >= 0 ? target.kept.bin_mass : target.all.bin_mass;
  HeadStats got = ev.evaluate(h, source);
  for (int it = 0; it < rounds; ++it) {
    for (size_t k = 0; k < h.trend.size(); ++k) {
      const double want = k < want_bins.size() ? want_bins[k] : 0.0;
      const double have = k < got.bin_mass.size() ? got.bin_mass[k] : 0.0;
      h.trend[k] += std::log(std::max(want, kTinyMass) / std::max(have, kTinyMass));
    }
    if (sinks > 0) h.sink_logit += std::log(std::max(real.sink_mass, kTinyMass) / std::max(got.sink_mass, kTinyMass));
    // Keep numbers bounded: the trend's maximum is 0, nothing below kTrendFloor - 20.
    const double mx = *std::max_element(h.trend.begin(), h.trend.end());
    for (double& g : h.trend) g = std::max(g - mx, kTrendFloor - 20.0);
    h.sink_logit = std::clamp(h.sink_logit, kTrendFloor - 20.0, -kTrendFloor + 20.0);
    got = ev.evaluate(h, source);
  }
  return got;
}

double score(const HeadStats& model, const HeadStats& real) {
  auto lr = [](double a, double b) { return std::abs(std::log(std::max(a, 1e-9) / std::max(b, 1e-9))); };
  return lr(model.frac90, real.frac90) + lr(model.frac99, real.frac99) +
         std::abs(model.entropy - real.entropy) / std::max(1.0, real.entropy) +
         2.0 * std::abs(model.window_mass - real.window_mass) + 2.0 * std::abs(model.sink_mass - real.sink_mass);
}

struct Candidate {
  HeadModel head;
  int source = -1;  // where the spikes sit (HeadEvaluator::evaluate)
  HeadStats stats;
  double score = 1e300;
};

// For fixed spikes: bisect sigma so that frac99 matches (more noise, fewer keys), calibrating the trend inside.
Candidate fit_sigma(const HeadEvaluator& ev, int source, const Targets& target, HeadModel h, int64_t sinks) {
  const HeadStats& real = target.all;
  double lo = 0.0, hi = kSigmaMax;
  Candidate best;
  for (int it = 0; it < 9; ++it) {
    h.noise_sigma = it == 0 ? 0.0 : 0.5 * (lo + hi);
    const HeadStats got = calibrate(ev, source, target, h, sinks, 2);
    const double sc = score(got, real);
    if (sc < best.score) best = Candidate{h, source, got, sc};
    if (it == 0) {
      if (got.frac99 <= real.frac99) break;  // already too concentrated without noise
      continue;
    }
    (got.frac99 > real.frac99 ? lo : hi) = h.noise_sigma;
  }
  return best;
}

double tail_slope_of(const std::vector<double>& trend, const HeadStats& real) {
  // Least squares over the last (up to) 6 octaves that hold mass, from octave 3 on.
  std::vector<std::pair<double, double>> pts;
  for (int k = static_cast<int>(trend.size()) - 1; k >= 3 && pts.size() < 6; --k)
    if (k < static_cast<int>(real.bin_mass.size()) && real.bin_mass[k] > kTinyMass) pts.emplace_back(k, trend[k]);
  if (pts.size() < 2) return 0.0;
  double mx = 0, my = 0;
  for (auto [x, y] : pts) mx += x, my += y;
  mx /= pts.size(), my /= pts.size();
  double sxy = 0, sxx = 0;
  for (auto [x, y] : pts) sxy += (x - mx) * (y - my), sxx += (x - mx) * (x - mx);
  return std::clamp(sxy / sxx, -20.0, 5.0);
}

// What the logits say directly, before any matching of statistics: residuals of keys at distance >= 32
// (logit minus the median of its distance octave in that step) give the noise sigma (robust: 1.4826 MAD),
// the spikes (the excess of residuals above 4 sigma over the Gaussian tail: density and median height) and
// the step-to-step correlation (pairs of consecutive steps, residuals within 3 sigma).

std::vector<DirectEstimate> direct_estimates(const TraceSource& trace, const FitOptions& opt) {
  const TraceMeta& m = trace.meta();
  const size_t heads = static_cast<size_t>(m.num_layers) * m.num_q_heads;
  // The last (up to) 16 decode steps (15 consecutive pairs).
  std::vector<int64_t> steps;
  for (int64_t t = std::max<int64_t>(0, m.decode_steps - 16); t < m.decode_steps; ++t) steps.push_back(t);
  std::vector<DirectEstimate> out(heads);
  std::vector<std::vector<double>> rows;  // the current head's logits, one row per analysed step
  for_each_step_logits(trace, steps, [&](int l, int h, int64_t t, std::span<const double> row) {
    rows.emplace_back(row.begin(), row.end());
    if (t != steps.back()) return;
    DirectEstimate& e = out[static_cast<size_t>(l) * m.num_q_heads + h];
    // Residual = logit - (the step's median over far keys) - (median of that over the key's octave, pooled
    // over steps): per-step offsets and the distance trend removed, robust to spikes.
    std::vector<double> scratch;
    for (auto& r : rows) {
      const int64_t p = static_cast<int64_t>(r.size()) - 1;
      scratch.assign(r.begin() + opt.sinks, r.begin() + std::max<int64_t>(opt.sinks, p - kFar + 1));
      if (scratch.empty()) scratch.assign(r.begin() + opt.sinks, r.end());
      std::nth_element(scratch.begin(), scratch.begin() + scratch.size() / 2, scratch.end());
      const double level = scratch[scratch.size() / 2];
      for (double& x : r) x -= level;
    }
    std::vector<std::vector<double>> by_bin(64);
    for (const auto& r : rows) {
      const int64_t p = static_cast<int64_t>(r.size()) - 1;
      for (int64_t j = opt.sinks; j <= p; ++j) by_bin[distance_bin(p - j)].push_back(r[j]);
    }
    std::vector<double> median(64, 0.0);
    for (int k = 0; k < 64; ++k) {
      auto& v = by_bin[k];
      if (v.empty()) continue;
      std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
      median[k] = v[v.size() / 2];
    }
    std::vector<double> all;
    for (auto& r : rows) {
      const int64_t p = static_cast<int64_t>(r.size()) - 1;
      for (int64_t j = 0; j <= p; ++j) {
        if (j < opt.sinks) {
          r[j] = std::numeric_limits<double>::quiet_NaN();
          continue;
        }
        r[j] -= median[distance_bin(p - j)];
        all.push_back(r[j]);
      }
    }
    if (all.size() >= 64) {
      std::vector<double> dev = all;
      std::nth_element(dev.begin(), dev.begin() + dev.size() / 2, dev.end());
      const double center = dev[dev.size() / 2];
      for (size_t j = 0; j < all.size(); ++j) dev[j] = std::abs(all[j] - center);
      std::nth_element(dev.begin(), dev.begin() + dev.size() / 2, dev.end());
      e.sigma = 1.4826 * dev[dev.size() / 2];
      // Spikes: residuals above 4 sigma beyond the Gaussian expectation (3.17e-5 of keys).
      const double tau = center + 4.0 * std::max(e.sigma, 0.05);
      std::vector<double> above;
      for (double r : all)
        if (r > tau) above.push_back(r);
      const double n = static_cast<double>(all.size());
      const double excess = static_cast<double>(above.size()) / n - 3.17e-5;
      if (excess > std::max(1e-4, 10.0 / n)) {
        std::nth_element(above.begin(), above.begin() + above.size() / 2, above.end());
        e.spike_logit = above[above.size() / 2] - center;
        for (const auto& r : rows)
          for (size_t j = 0; j < r.size(); ++j)
            if (r[j] > tau) e.spike_positions.push_back(static_cast<int64_t>(j));  // NaN compares false
        std::sort(e.spike_positions.begin(), e.spike_positions.end());
        e.spike_positions.erase(std::unique(e.spike_positions.begin(), e.spike_positions.end()),
                                e.spike_positions.end());
        e.spike_density = std::min(0.5, static_cast<double>(e.spike_positions.size()) /
                                            static_cast<double>(m.num_positions() - opt.sinks));
      }
      // Correlation over consecutive pairs, keys within 3 sigma in both steps.
      const double clip = 3.0 * std::max(e.sigma, 0.05);
      double sxy = 0, sxx = 0, syy = 0;
      for (size_t s = 0; s + 1 < rows.size(); ++s) {
        const std::vector<double>&x = rows[s], &y = rows[s + 1];
        for (size_t j = 0; j < x.size(); ++j) {
          const double a = x[j] - center, b = y[j] - center;
          if (!(std::abs(a) < clip && std::abs(b) < clip)) continue;  // sinks (NaN) fail too
          sxy += a * b, sxx += a * a, syy += b * b;
        }
      }
      if (sxx > 0 && syy > 0) e.correlation = std::clamp(sxy / std::sqrt(sxx * syy), 0.0, 0.99);
    }
    rows.clear();
  });
  return out;
}

// A candidate must beat the direct estimate by this much (in score units) to replace it: the direct estimate
// is right when the trace follows the model, and the statistics of a few evaluation steps are noisy.
constexpr double kPreferDirect = 0.1;

HeadModel fit_head(const TraceMeta& meta, const FitOptions& opt, const Targets& target, const DirectEstimate& direct) {
  const HeadStats& real = target.all;
  const HeadEvaluator ev(meta, opt, real.layer, real.head);
  HeadModel start;
  start.layer = real.layer;
  start.head = real.head;
  const int bins = bins_for_length(meta.num_positions());
  for (int k = 0; k < bins; ++k) {
    const double mass = k < static_cast<int>(real.bin_mass.size()) ? real.bin_mass[k] : 0.0;
    start.trend.push_back(std::log(std::max(mass, kTinyMass) / static_cast<double>(bin_size(k))));
  }
  start.noise_correlation = direct.correlation;
  start.noise_sigma = std::min(direct.sigma, kSigmaMax);
  start.spike_density = direct.spike_density;
  start.spike_logit = direct.spike_logit;

  // The direct estimate: spikes on the nearest density level, height shifted to keep their expected mass.
  const SpikeRealization direct_spikes = start.spikes();
  start.spike_density = direct_spikes.level >= 0 ? spike_level_density(direct_spikes.level) : 0.0;
  start.spike_logit = direct_spikes.level >= 0 ? direct_spikes.logit : 0.0;
  Candidate best;
  best.head = start;
  best.source = direct_spikes.level;
  best.stats = calibrate(ev, best.source, target, best.head, opt.sinks, 4);
  best.score = score(best.stats, real);
  const double direct_score = best.score;
  auto consider = [&](int level, double logit) {
    HeadModel h = best.head;
    h.spike_density = level < 0 ? 0.0 : spike_level_density(level);
    h.spike_logit = level < 0 ? 0.0 : logit;
    Candidate c = fit_sigma(ev, level, target, h, opt.sinks);
    const double bar = best.score - (best.score == direct_score ? kPreferDirect : 1e-12);
    if (c.score < bar) best = std::move(c);
  };
  // Sigma matched to frac99: without spikes; around the direct spikes; on a coarse grid of density levels
  // and heights; then around the best so far.
  consider(-1, 0.0);
  if (direct_spikes.level >= 0)
    for (double dl : {0.0, -2.0, 2.0}) consider(direct_spikes.level, direct_spikes.logit + dl);
  for (int level = 0; level < kSpikeLevels; level += 2)
    for (double logit : {3.0, 6.0, 9.0, 12.0}) consider(level, logit);
  if (best.source >= 0) {
    const int level = best.source;
    const double center = best.head.spike_logit;
    for (int dlevel : {-1, 0, 1})
      for (double dl : {-1.5, 1.5})
        if (level + dlevel >= 0 && level + dlevel < kSpikeLevels) consider(level + dlevel, center + dl);
  }
  HeadModel h = best.head;
  best.stats = calibrate(ev, best.source, target, h, opt.sinks, 3);
  h.tail_slope = tail_slope_of(h.trend, real);
  h.real = summary_of(real);
  h.fitted = summary_of(best.stats);
  return h;
}

}  // namespace

AttentionModel fit_model(const TraceSource& trace, const FitOptions& opt) {
  const TraceMeta& m = trace.meta();
  validate_meta(m, "fit");
  if (opt.sinks < 0) throw ModelError("fit: --sinks must be >= 0");
  if (opt.window < 1) throw ModelError("fit: --window must be >= 1");
  if (opt.window > m.num_positions())
    throw ModelError("fit: --window " + std::to_string(opt.window) + " is longer than the trace (" +
                     std::to_string(m.num_positions()) + " positions)");
  if (opt.sinks >= m.prompt_length)
    throw ModelError("fit: --sinks " + std::to_string(opt.sinks) + " must be shorter than the prompt (" +
                     std::to_string(m.prompt_length) + " positions)");
  if (opt.eval_steps < 1) throw ModelError("fit: --eval-steps must be >= 1");
  const std::vector<DirectEstimate> direct = direct_estimates(trace, opt);
  // The trace's statistics, and its octave masses without the identified spike keys.
  const size_t heads = static_cast<size_t>(m.num_layers) * m.num_q_heads;
  std::vector<StatsAccumulator> all(heads, StatsAccumulator(StatsOptions{opt.sinks, opt.window})), kept = all;
  std::vector<std::vector<uint8_t>> spike_mask(heads);
  for (size_t i = 0; i < heads; ++i) {
    spike_mask[i].assign(static_cast<size_t>(m.num_positions()), 0);
    for (int64_t j : direct[i].spike_positions) spike_mask[i][j] = 1;
  }
  for_each_step_logits(trace, sample_steps(m.decode_steps, opt.max_steps),
                       [&](int l, int h, int64_t, std::span<const double> row) {
                         const size_t i = static_cast<size_t>(l) * m.num_q_heads + h;
                         all[i].add_step(row);
                         kept[i].add_step(row, std::span<const uint8_t>(spike_mask[i].data(), row.size()));
                       });
  std::vector<Targets> real(heads);
  for (size_t i = 0; i < heads; ++i) {
    const int l = static_cast<int>(i) / m.num_q_heads, h = static_cast<int>(i) % m.num_q_heads;
    real[i] = Targets{all[i].result(l, h), kept[i].result(l, h)};
  }

  AttentionModel model;
  model.source_trace = opt.source_path;
  model.source_model = m.model_name;
  model.fitted_by = opt.fitted_by;
  model.source_positions = m.num_positions();
  model.source_decode_steps = m.decode_steps;
  model.num_layers = m.num_layers;
  model.num_q_heads = m.num_q_heads;
  model.num_kv_heads = m.num_kv_heads;
  model.head_dim = m.head_dim;
  model.softmax_scale = m.softmax_scale;
  model.sinks = opt.sinks;
  model.window = opt.window;
  model.fit_seed = opt.seed;
  model.fit_eval_steps = opt.eval_steps;
  model.heads.resize(real.size());

  // Heads are independent: fit them on a few threads, each result written to its own slot.
  const int threads = std::max(1, opt.threads > 0 ? opt.threads : static_cast<int>(std::thread::hardware_concurrency()));
  std::atomic<size_t> next{0};
  std::exception_ptr error;
  std::atomic<bool> failed{false};
  auto work = [&] {
    for (size_t i = next++; i < real.size() && !failed; i = next++) {
      try {
        model.heads[i] = fit_head(m, opt, real[i], direct[i]);
      } catch (...) {
        if (!failed.exchange(true)) error = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < std::min<int>(threads, static_cast<int>(real.size())); ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
  validate_model(model, "fit");
  return model;
}

}  // namespace hgca::traces::synth
