// The parametric attention model that `hgca trace fit` writes and `hgca trace synth` reads (docs/SYNTHESIS.md).
// For a decode query at position p, a key at position j <= p (distance d = p - j) has the logit
//   trend(d)                       a per-octave distance profile (distance_bin), extended past its last bin
//                                  by tail_slope per octave: local decay, or flat for dense heads
//   + sink_logit     if j < sinks  attention sinks
//   + spike_logit    if j is one of the head's retrieval keys (a fixed random set of density spike_density)
//   + sigma * z      z standard normal per (step, key), correlated between consecutive steps
// and the attention weights are the softmax of these logits.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace hgca::traces::synth {

// A bad model file or impossible parameters: one line naming the file, the key and what was expected.
class ModelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr const char* kModelFormatName = "hgca-attention-model";
inline constexpr int kModelFormatVersion = 1;

// Retrieval keys are realized as tags on keys shared by a KV head's query heads, so densities come in fixed
// levels: level r tags a key with probability 2^-(3 + 1.5 r). A density between levels uses the nearest level
// (in log scale) and shifts spike_logit so that the expected spike mass is unchanged.
inline constexpr int kSpikeLevels = 8;
double spike_level_density(int level);
int nearest_spike_level(double density);  // -1 for density 0

// How a head's spikes are realized: the tag level it reads and the logit on tagged keys (spike_logit shifted by
// ln(density / level density), so the expected spike mass is the model's). level -1: no spikes.
struct SpikeRealization {
  int level = -1;
  double logit = 0;
};

// The statistics compared in a fit (a subset of HeadStats).
struct StatsSummary {
  double sink_mass = 0, window_mass = 0, frac90 = 0, frac99 = 0, entropy = 0;
};

struct HeadModel {
  int layer = 0, head = 0;
  std::vector<double> trend;     // logit per distance bin, bin 0 upward (at least one bin)
  double tail_slope = 0;         // logit change per distance bin past the last trend bin
  double sink_logit = 0;         // added on positions < sinks
  double noise_sigma = 0;        // standard deviation of the per-(step, key) logit noise
  double noise_correlation = 0;  // correlation of a key's noise between consecutive decode steps, in [0, 1)
  double spike_density = 0;      // share of keys that are this head's retrieval keys, in [0, 0.5]; 0 = none
  double spike_logit = 0;        // logit added on retrieval keys
  std::optional<StatsSummary> real, fitted;  // fit quality (informative, not needed to synthesize)

  double trend_logit(int64_t distance) const;
  SpikeRealization spikes() const;
};

struct AttentionModel {
  // Where it came from.
  std::string source_trace, source_model, fitted_by;
  int64_t source_positions = 0, source_decode_steps = 0;
  // The trace shape it synthesizes.
  int num_layers = 0, num_q_heads = 0, num_kv_heads = 0, head_dim = 0;
  double softmax_scale = 0;
  // Fit settings.
  int64_t sinks = 4, window = 1024;
  uint64_t fit_seed = 1;
  int64_t fit_eval_steps = 8;
  std::vector<HeadModel> heads;  // layer-major: heads[layer * num_q_heads + q_head]

  const HeadModel& head(int layer, int q_head) const { return heads.at(static_cast<size_t>(layer) * num_q_heads + q_head); }
  int group_size() const { return num_q_heads / num_kv_heads; }
};

// Checks every field; throws ModelError("<what>: <key>: ...").
void validate_model(const AttentionModel& model, const std::string& what);

// YAML or JSON (JSON is read as YAML); unknown keys are errors. Throws ModelError naming the file and key.
AttentionModel load_model(const std::string& path);
// JSON when the path ends in .json, YAML otherwise; written to a temporary and renamed (atomic).
void save_model(const AttentionModel& model, const std::string& path);
std::string model_to_text(const AttentionModel& model, bool json);

}  // namespace hgca::traces::synth
