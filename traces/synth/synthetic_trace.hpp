// A synthetic attention trace generated from an AttentionModel: a TraceSource that builds each (layer, head)
// on request, deterministically from the seed (counter-based random numbers), so write_trace can stream a
// 1M-position trace one head at a time. The vectors are real: softmax(scale * q . k) has the model's structure.
//
// Dimensions of every KV head (docs/SYNTHESIS.md has the derivation), head_dim >= 17 + 2 * group size:
//   0            sink: keys 1 on positions < sinks;            queries sink_logit / scale
//   1..8         noise: keys i.i.d. N(0, 1) per position;     queries sigma / scale * u_t, |u_t| = 1, AR(1) in t
//   9..16        retrieval tags, one per density level r:      keys 1 with probability spike_level_density(r);
//                                                              queries spike_logit' / scale on the head's level
//   17..         distance anchors, anchors_per_head for each query head of the group: anchor m (position A_m
//                in the decode range) holds trend(A_m - j) on key j; the query at p holds hat-function
//                weights of p between its two neighbouring anchors, divided by scale.
//   rest         zero
// With decode_steps <= anchors_per_head every decode position is an anchor and the realized logit equals the
// model's logit (target_logit) up to float rounding; with more steps the trend is linearly interpolated between
// anchors, which is exact up to a second-order error far from the query and blurs the nearest few distances.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "traces/format/trace.hpp"
#include "traces/synth/attention_model.hpp"
#include "traces/synth/counter_rng.hpp"

namespace hgca::traces::synth {

struct SynthOptions {
  int64_t length = 0;        // num_positions of the trace
  int64_t decode_steps = 0;  // decode queries (the last decode_steps positions)
  uint64_t seed = 1;
  std::string dtype = "float16";  // storage dtype written to the file
  std::string model_source;       // what the model file was (stamped into meta().source)
  int threads = 0;                // 0: hardware concurrency; results do not depend on it
};

struct SynthLayout {
  static constexpr int kSink = 0, kNoise = 1, kNoiseDims = 8, kTag = 9, kTagDims = kSpikeLevels, kAnchor = 17;
  int head_dim = 0, group = 1, anchors_per_head = 0;
  static int min_head_dim(int group) { return kAnchor + 2 * group; }
  int anchor_dim(int member, int m) const { return kAnchor + member * anchors_per_head + m; }
};

// Logits of the trend stored in anchors are shifted so that their maximum is 0 and floored at this value
// (a weight of e^-60 relative to the strongest key is below float resolution anyway).
inline constexpr double kTrendFloor = -60.0;

// The random parts of the model, shared by the synthesizer and the fit's evaluations (one implementation).
double key_noise(uint64_t seed, int layer, int kv_head, int64_t position, int component);
bool key_tagged(uint64_t seed, int layer, int kv_head, int64_t position, int level);

class SyntheticTrace : public TraceSource {
 public:
  // Validates model and options; throws ModelError / TraceError with a one-line message.
  SyntheticTrace(AttentionModel model, SynthOptions options);

  const TraceMeta& meta() const override { return meta_; }
  void keys(int layer, int kv_head, std::vector<float>& out) const override;
  void values(int layer, int kv_head, std::vector<float>& out) const override;
  void queries(int layer, int q_head, std::vector<float>& out) const override;
  void outputs(int layer, int q_head, std::vector<float>& out) const override;

  // The logit the model intends for decode step t and key position j <= prompt_length + t (up to a per-step
  // constant): shifted, floored trend + sink + spike + noise. The realized scale * q . k matches it exactly
  // when decode_steps <= layout().anchors_per_head.
  double target_logit(int layer, int q_head, int64_t t, int64_t j) const;

  const SynthLayout& layout() const { return layout_; }
  const AttentionModel& model() const { return model_; }
  const std::vector<int64_t>& anchors() const { return anchors_; }
  // The unit noise directions u_t of a query head, [decode_steps][kNoiseDims]: the noise logit of key j at
  // step t is noise_sigma * sum_c u_t[c] * key_noise(seed, layer, kv_head, j, c).
  void query_noise_directions(int layer, int q_head, std::vector<double>& u) const;

 private:
  double trend_value(const HeadModel& h, int64_t distance) const;  // shifted and floored

  AttentionModel model_;
  SynthOptions opt_;
  TraceMeta meta_;
  SynthLayout layout_;
  std::vector<int64_t> anchors_;    // positions of the distance anchors
  std::vector<double> trend_shift_; // per (layer, q head): max of the trend over the distances used
};

}  // namespace hgca::traces::synth
