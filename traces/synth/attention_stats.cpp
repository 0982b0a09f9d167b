#include "traces/synth/attention_stats.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include <Eigen/Core>

namespace hgca::traces::synth {

void StatsAccumulator::add_step(std::span<const double> logits, std::span<const uint8_t> excluded) {
  const int64_t n = static_cast<int64_t>(logits.size());
  if (n == 0) return;
  const int64_t p = n - 1;
  double mx = -std::numeric_limits<double>::infinity();
  for (double x : logits) mx = std::max(mx, x);
  thread_local std::vector<double> prob_;  // scratch shared by all accumulators of a thread
  prob_.resize(n);
  double sum = 0;
  for (int64_t j = 0; j < n; ++j) sum += (prob_[j] = std::exp(logits[j] - mx));
  const double lse = mx + std::log(sum);
  const int nb = bins_for_length(n);
  if (static_cast<int>(bins_.size()) < nb) bins_.resize(nb, 0.0);
  const int64_t sinks = std::min(opt_.sinks, n);
  double sink = 0, window = 0, weighted = 0;
  for (int64_t j = 0; j < n; ++j) {
    const double pr = prob_[j] / sum;
    prob_[j] = pr;
    weighted += pr * (logits[j] - lse);
    if (j < sinks) {
      sink += pr;
      continue;
    }
    if (p - j < opt_.window) window += pr;
    if (excluded.empty() || !excluded[j]) bins_[distance_bin(p - j)] += pr;
  }
  std::sort(prob_.begin(), prob_.end(), std::greater<double>());
  // Count keys until the running mass reaches the target; the small slack absorbs rounding in the sum.
  double run = 0;
  int64_t k90 = 0, k99 = 0;
  for (int64_t i = 0; i < n && k99 == 0; ++i) {
    run += prob_[i];
    if (k90 == 0 && run >= 0.9 - 1e-12) k90 = i + 1;
    if (run >= 0.99 - 1e-12) k99 = i + 1;
  }
  if (k90 == 0) k90 = n;
  if (k99 == 0) k99 = n;
  ++steps_;
  context_ += n;
  sink_ += sink;
  window_ += window;
  k90_ += k90;
  k99_ += k99;
  f90_ += static_cast<double>(k90) / n;
  f99_ += static_cast<double>(k99) / n;
  entropy_ += -weighted;
}

HeadStats StatsAccumulator::result(int layer, int head) const {
  HeadStats s;
  s.layer = layer;
  s.head = head;
  s.steps = steps_;
  if (steps_ == 0) return s;
  const double inv = 1.0 / steps_;
  s.mean_context = context_ * inv;
  s.sink_mass = sink_ * inv;
  s.window_mass = window_ * inv;
  s.keys90 = k90_ * inv;
  s.keys99 = k99_ * inv;
  s.frac90 = f90_ * inv;
  s.frac99 = f99_ * inv;
  s.entropy = entropy_ * inv;
  s.bin_mass = bins_;
  for (double& b : s.bin_mass) b *= inv;
  return s;
}

std::vector<int64_t> sample_steps(int64_t steps, int64_t max_steps) {
  std::vector<int64_t> out;
  if (max_steps <= 0 || max_steps >= steps) {
    for (int64_t t = 0; t < steps; ++t) out.push_back(t);
    return out;
  }
  // Evenly spaced, the last step always included (it sees the longest context).
  for (int64_t i = 0; i < max_steps; ++i) out.push_back(steps - 1 - (max_steps - 1 - i) * steps / max_steps);
  return out;
}

void check_stats_options(const StatsOptions& opt, int64_t positions, const std::string& what) {
  if (opt.sinks < 0) throw TraceError(what + ": sinks must be >= 0, got " + std::to_string(opt.sinks));
  if (opt.window < 1) throw TraceError(what + ": window must be >= 1, got " + std::to_string(opt.window));
  if (opt.window > positions)
    throw TraceError(what + ": window " + std::to_string(opt.window) + " is longer than the trace (" +
                     std::to_string(positions) + " positions)");
}

void for_each_step_logits(const TraceSource& trace, const std::vector<int64_t>& steps,
                          const std::function<void(int, int, int64_t, std::span<const double>)>& visit) {
  const TraceMeta& m = trace.meta();
  using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  std::vector<float> keys, queries;
  std::vector<double> row;
  Eigen::VectorXf scores;
  const int64_t n_all = m.num_positions(), d = m.head_dim;
  for (int64_t t : steps)
    if (t < 0 || t >= m.decode_steps)
      throw TraceError("stats: decode step " + std::to_string(t) + " out of range [0, " +
                       std::to_string(m.decode_steps) + ")");
  for (int l = 0; l < m.num_layers; ++l) {
    for (int kv = 0; kv < m.num_kv_heads; ++kv) {
      trace.keys(l, kv, keys);
      const Eigen::Map<const RowMajor> K(keys.data(), n_all, d);
      for (int g = 0; g < m.group_size(); ++g) {
        const int h = kv * m.group_size() + g;
        trace.queries(l, h, queries);
        for (int64_t t : steps) {
          const int64_t p = m.prompt_length + t;
          const Eigen::Map<const Eigen::VectorXf> q(queries.data() + t * d, d);
          scores.noalias() = K.topRows(p + 1) * q;
          row.resize(p + 1);
          for (int64_t j = 0; j <= p; ++j) row[j] = m.softmax_scale * static_cast<double>(scores[j]);
          visit(l, h, t, row);
        }
      }
    }
  }
}

std::vector<HeadStats> trace_stats(const TraceSource& trace, const StatsOptions& opt, int64_t max_steps) {
  const TraceMeta& m = trace.meta();
  check_stats_options(opt, m.num_positions(), "stats");
  std::vector<StatsAccumulator> acc(static_cast<size_t>(m.num_layers) * m.num_q_heads, StatsAccumulator(opt));
  for_each_step_logits(trace, sample_steps(m.decode_steps, max_steps),
                       [&](int l, int h, int64_t, std::span<const double> row) {
                         acc[static_cast<size_t>(l) * m.num_q_heads + h].add_step(row);
                       });
  std::vector<HeadStats> out;
  for (size_t i = 0; i < acc.size(); ++i)
    out.push_back(acc[i].result(static_cast<int>(i) / m.num_q_heads, static_cast<int>(i) % m.num_q_heads));
  return out;
}

}  // namespace hgca::traces::synth
