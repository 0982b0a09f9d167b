// Helpers for the synthesis tests: a scratch directory, and small attention models with known parameters.
#pragma once

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "traces/synth/attention_model.hpp"

namespace hgca::traces::synth::test {

class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name) {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("hgca-synth-" + name + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  size_t entry_count() const {
    size_t n = 0;
    for (auto it = std::filesystem::directory_iterator(path_); it != std::filesystem::directory_iterator(); ++it) ++n;
    return n;
  }

 private:
  std::filesystem::path path_;
};

// A trend falling by `slope` logits per distance octave from `near` at distance 0.
inline std::vector<double> octave_trend(int bins, double near, double slope) {
  std::vector<double> t;
  for (int k = 0; k < bins; ++k) t.push_back(near + slope * k);
  return t;
}

// Two query heads over one KV head, head_dim 64: head 0 local (steep trend, noise, no spikes), head 1 a
// retrieval head (flat trend, spikes on level 1, sinks).
inline AttentionModel known_model(int layers = 1) {
  AttentionModel m;
  m.source_model = "known";
  m.num_layers = layers;
  m.num_q_heads = 2;
  m.num_kv_heads = 1;
  m.head_dim = 64;
  m.softmax_scale = 0.125;
  m.sinks = 4;
  m.window = 256;
  for (int l = 0; l < layers; ++l) {
    HeadModel local;
    local.layer = l;
    local.head = 0;
    local.trend = octave_trend(12, 0.0, -1.2);
    local.tail_slope = -1.2;
    local.sink_logit = -60.0;
    local.noise_sigma = 1.0;
    local.noise_correlation = 0.5;
    HeadModel retrieval;
    retrieval.layer = l;
    retrieval.head = 1;
    retrieval.trend = octave_trend(12, 0.0, -0.3);
    retrieval.tail_slope = -0.3;
    retrieval.sink_logit = 3.0;
    retrieval.noise_sigma = 0.5;
    retrieval.noise_correlation = 0.8;
    retrieval.spike_density = spike_level_density(1);
    retrieval.spike_logit = 5.0;
    m.heads.push_back(local);
    m.heads.push_back(retrieval);
  }
  return m;
}

}  // namespace hgca::traces::synth::test
