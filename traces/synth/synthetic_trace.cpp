#include "traces/synth/synthetic_trace.hpp"

#include <algorithm>
#include <cmath>
#include <thread>

#include "traces/synth/attention_stats.hpp"

namespace hgca::traces::synth {

double key_noise(uint64_t seed, int layer, int kv_head, int64_t position, int component) {
  return CounterRng(seed, stream_id(Stream::kKeyNoise, layer, kv_head)).normal(position, component);
}

bool key_tagged(uint64_t seed, int layer, int kv_head, int64_t position, int level) {
  return CounterRng(seed, stream_id(Stream::kKeyTag, layer, kv_head)).uniform(position, level) <
         spike_level_density(level);
}

namespace {

// Runs fn(begin, end) over [0, n) in contiguous chunks on `threads` threads. Each position's output depends
// on the position alone, so the result is the same for any thread count.
template <class Fn>
void parallel_positions(int64_t n, int threads, Fn fn) {
  const int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(threads, n / 4096));
  if (chunks == 1) {
    fn(int64_t{0}, n);
    return;
  }
  std::vector<std::thread> pool;
  for (int64_t c = 0; c < chunks; ++c) pool.emplace_back(fn, n * c / chunks, n * (c + 1) / chunks);
  for (auto& t : pool) t.join();
}

}  // namespace

SyntheticTrace::SyntheticTrace(AttentionModel model, SynthOptions options)
    : model_(std::move(model)), opt_(std::move(options)) {
  validate_model(model_, opt_.model_source.empty() ? "model" : opt_.model_source);
  const std::string what = "synth";
  if (opt_.decode_steps < 1)
    throw TraceError(what + ": --decode-steps must be >= 1, got " + std::to_string(opt_.decode_steps));
  if (opt_.length <= opt_.decode_steps)
    throw TraceError(what + ": --length (" + std::to_string(opt_.length) + ") must exceed --decode-steps (" +
                     std::to_string(opt_.decode_steps) + ")");
  if (opt_.length < model_.window)
    throw TraceError(what + ": --length " + std::to_string(opt_.length) + " is shorter than the model's window (" +
                     std::to_string(model_.window) + " positions)");
  if (opt_.length - opt_.decode_steps <= model_.sinks)
    throw TraceError(what + ": the prompt (" + std::to_string(opt_.length - opt_.decode_steps) +
                     " positions) must be longer than the model's sinks (" + std::to_string(model_.sinks) + ")");
  if (opt_.length > (int64_t{1} << 40)) throw TraceError(what + ": --length is too large");
  if (!is_storage_dtype(opt_.dtype))
    throw TraceError(what + ": --dtype must be float16, bfloat16 or float32, got '" + opt_.dtype + "'");
  layout_.head_dim = model_.head_dim;
  layout_.group = model_.group_size();
  if (model_.head_dim < SynthLayout::min_head_dim(layout_.group))
    throw ModelError((opt_.model_source.empty() ? "model" : opt_.model_source) + ": shape.head_dim: " +
                     std::to_string(model_.head_dim) + " is too small to synthesize (needs >= " +
                     std::to_string(SynthLayout::min_head_dim(layout_.group)) + " for " +
                     std::to_string(layout_.group) + " query heads per KV head)");
  layout_.anchors_per_head = (model_.head_dim - SynthLayout::kAnchor) / layout_.group;
  if (opt_.threads <= 0) opt_.threads = std::max(1u, std::thread::hardware_concurrency());

  const int64_t prompt = opt_.length - opt_.decode_steps, steps = opt_.decode_steps;
  const int64_t count = std::min<int64_t>(steps, layout_.anchors_per_head);
  for (int64_t m = 0; m < count; ++m)
    anchors_.push_back(count == 1 ? prompt + steps - 1
                                  : prompt + (m * (steps - 1) + (count - 1) / 2) / (count - 1));

  const int bins = bins_for_length(opt_.length);
  for (const HeadModel& h : model_.heads) {
    double mx = -1e300;
    for (int k = 0; k < bins; ++k) mx = std::max(mx, h.trend_logit(bin_first(k)));
    trend_shift_.push_back(mx);
  }

  meta_.format_version = kTraceFormatVersion;
  meta_.model_name = (model_.source_model.empty() ? std::string("synthetic") : model_.source_model) + "-synth";
  meta_.source = "synth:" + (opt_.model_source.empty() ? std::string("(in memory)") : opt_.model_source) +
                 " seed=" + std::to_string(opt_.seed);
  meta_.text_source = "none (synthetic)";
  meta_.num_layers = model_.num_layers;
  meta_.num_q_heads = model_.num_q_heads;
  meta_.num_kv_heads = model_.num_kv_heads;
  meta_.head_dim = model_.head_dim;
  meta_.storage_dtype = opt_.dtype;
  meta_.rope_theta = 0.0;
  meta_.rope_scaling = "none";
  meta_.softmax_scale = model_.softmax_scale;
  meta_.prompt_length = prompt;
  meta_.decode_steps = steps;
  meta_.has_outputs = false;
  meta_.model_dtype = "float32";
  meta_.decode_mode = "synthetic";
}

double SyntheticTrace::trend_value(const HeadModel& h, int64_t distance) const {
  const size_t i = static_cast<size_t>(h.layer) * model_.num_q_heads + h.head;
  return std::max(kTrendFloor, h.trend_logit(distance) - trend_shift_[i]);
}

void SyntheticTrace::keys(int layer, int kv_head, std::vector<float>& out) const {
  if (layer < 0 || layer >= meta_.num_layers || kv_head < 0 || kv_head >= meta_.num_kv_heads)
    throw TraceError("synth keys: layer " + std::to_string(layer) + " / KV head " + std::to_string(kv_head) +
                     " out of range");
  const int64_t n = opt_.length, d = layout_.head_dim;
  out.assign(static_cast<size_t>(n * d), 0.0f);
  const CounterRng noise(opt_.seed, stream_id(Stream::kKeyNoise, layer, kv_head));
  const CounterRng tags(opt_.seed, stream_id(Stream::kKeyTag, layer, kv_head));
  double density[SynthLayout::kTagDims];
  for (int r = 0; r < SynthLayout::kTagDims; ++r) density[r] = spike_level_density(r);
  // Anchor values by distance octave (the trend is constant over an octave), per query head of the group.
  std::vector<std::vector<float>> table(layout_.group, std::vector<float>(64));
  for (int g = 0; g < layout_.group; ++g)
    for (int k = 0; k < 64; ++k)
      table[g][k] = static_cast<float>(trend_value(model_.head(layer, kv_head * layout_.group + g), bin_first(k)));
  parallel_positions(n, opt_.threads, [&](int64_t begin, int64_t end) {
    for (int64_t j = begin; j < end; ++j) {
      float* k = out.data() + j * d;
      if (j < model_.sinks) k[SynthLayout::kSink] = 1.0f;
      for (int c = 0; c < SynthLayout::kNoiseDims; ++c) k[SynthLayout::kNoise + c] = static_cast<float>(noise.normal(j, c));
      if (j >= model_.sinks)
        for (int r = 0; r < SynthLayout::kTagDims; ++r)
          if (tags.uniform(j, r) < density[r]) k[SynthLayout::kTag + r] = 1.0f;
      for (int g = 0; g < layout_.group; ++g)
        for (size_t m = 0; m < anchors_.size(); ++m)
          k[layout_.anchor_dim(g, static_cast<int>(m))] = table[g][distance_bin(std::max<int64_t>(0, anchors_[m] - j))];
    }
  });
}

void SyntheticTrace::values(int layer, int kv_head, std::vector<float>& out) const {
  if (layer < 0 || layer >= meta_.num_layers || kv_head < 0 || kv_head >= meta_.num_kv_heads)
    throw TraceError("synth values: layer " + std::to_string(layer) + " / KV head " + std::to_string(kv_head) +
                     " out of range");
  const int64_t n = opt_.length, d = layout_.head_dim;
  out.resize(static_cast<size_t>(n * d));
  const CounterRng rng(opt_.seed, stream_id(Stream::kValue, layer, kv_head));
  parallel_positions(n, opt_.threads, [&](int64_t begin, int64_t end) {
    for (int64_t j = begin; j < end; ++j)
      for (int64_t c = 0; c < d; ++c) out[j * d + c] = static_cast<float>(rng.rough_normal(j, c));
  });
}

void SyntheticTrace::query_noise_directions(int layer, int q_head, std::vector<double>& u) const {
  const HeadModel& h = model_.head(layer, q_head);
  const CounterRng rng(opt_.seed, stream_id(Stream::kQueryNoise, layer, q_head));
  const int m = SynthLayout::kNoiseDims;
  const double rho = h.noise_correlation, fresh = std::sqrt(1.0 - rho * rho) / std::sqrt(double(m));
  u.assign(static_cast<size_t>(opt_.decode_steps * m), 0.0);
  for (int64_t t = 0; t < opt_.decode_steps; ++t) {
    double* cur = u.data() + t * m;
    double norm = 0;
    for (int c = 0; c < m; ++c) {
      const double xi = rng.normal(t, c);
      cur[c] = t == 0 ? xi : rho * cur[c - m] + fresh * xi;
      norm += cur[c] * cur[c];
    }
    norm = std::sqrt(norm);
    for (int c = 0; c < m; ++c) cur[c] /= norm;
  }
}

void SyntheticTrace::queries(int layer, int q_head, std::vector<float>& out) const {
  if (layer < 0 || layer >= meta_.num_layers || q_head < 0 || q_head >= meta_.num_q_heads)
    throw TraceError("synth queries: layer " + std::to_string(layer) + " / query head " + std::to_string(q_head) +
                     " out of range");
  const HeadModel& h = model_.head(layer, q_head);
  const int64_t d = layout_.head_dim, steps = opt_.decode_steps, prompt = meta_.prompt_length;
  const double inv = 1.0 / model_.softmax_scale;
  const SpikeRealization spikes = h.spikes();
  const int member = q_head % layout_.group;
  std::vector<double> u;
  query_noise_directions(layer, q_head, u);
  out.assign(static_cast<size_t>(steps * d), 0.0f);
  for (int64_t t = 0; t < steps; ++t) {
    float* q = out.data() + t * d;
    q[SynthLayout::kSink] = static_cast<float>(h.sink_logit * inv);
    for (int c = 0; c < SynthLayout::kNoiseDims; ++c)
      q[SynthLayout::kNoise + c] = static_cast<float>(h.noise_sigma * u[t * SynthLayout::kNoiseDims + c] * inv);
    if (spikes.level >= 0) q[SynthLayout::kTag + spikes.level] = static_cast<float>(spikes.logit * inv);
    // Hat weights of this position between its neighbouring anchors.
    const int64_t p = prompt + t;
    const auto it = std::upper_bound(anchors_.begin(), anchors_.end(), p);
    const size_t hi = std::min<size_t>(it - anchors_.begin(), anchors_.size() - 1);
    const size_t lo = hi == 0 ? 0 : hi - 1;
    if (lo == hi || anchors_[lo] == p) {
      q[layout_.anchor_dim(member, static_cast<int>(p == anchors_[lo] ? lo : hi))] = static_cast<float>(inv);
    } else {
      const double lambda = double(p - anchors_[lo]) / double(anchors_[hi] - anchors_[lo]);
      q[layout_.anchor_dim(member, static_cast<int>(lo))] = static_cast<float>((1.0 - lambda) * inv);
      q[layout_.anchor_dim(member, static_cast<int>(hi))] = static_cast<float>(lambda * inv);
    }
  }
}

void SyntheticTrace::outputs(int, int, std::vector<float>&) const {
  throw TraceError("synth: a synthetic trace stores no attention outputs (has_outputs is false)");
}

double SyntheticTrace::target_logit(int layer, int q_head, int64_t t, int64_t j) const {
  const HeadModel& h = model_.head(layer, q_head);
  const int64_t p = meta_.prompt_length + t;
  const int kv = meta_.kv_head_of(q_head);
  double logit = trend_value(h, p - j);
  if (j < model_.sinks) logit += h.sink_logit;
  const SpikeRealization spikes = h.spikes();
  if (spikes.level >= 0 && j >= model_.sinks && key_tagged(opt_.seed, layer, kv, j, spikes.level))
    logit += spikes.logit;
  std::vector<double> u;
  query_noise_directions(layer, q_head, u);
  double z = 0;
  for (int c = 0; c < SynthLayout::kNoiseDims; ++c)
    z += u[t * SynthLayout::kNoiseDims + c] * key_noise(opt_.seed, layer, kv, j, c);
  return logit + h.noise_sigma * z;
}

}  // namespace hgca::traces::synth
