// Fitting an AttentionModel to a trace (`hgca trace fit`; docs/SYNTHESIS.md has the details). Per (layer,
// query head):
//   1. targets: the trace's statistics over its decode steps (attention_stats): mass per distance octave,
//      sink mass, keys for 90% / 99% of the mass, entropy, window mass;
//   2. direct estimates from the logits of the last 16 decode steps: residuals (logit minus the step's far
//      level minus the octave's median) give the noise sigma (1.4826 MAD), the spikes (excess of residuals
//      above 4 sigma over the Gaussian tail: density, median height) and the step-to-step correlation;
//   3. the model is evaluated on `eval_steps` decode positions of the trace's length with spikes tagged as the
//      synthesizer tags them (fit seed) and stratified noise; inside every evaluation the trend and the sink
//      logit are re-calibrated until the mass per octave (without spike keys, when there are spikes) and on
//      the sinks match the trace's;
//   4. refinement: for spike settings around the direct estimate and on a coarse grid, sigma is bisected so
//      that frac99 matches; a setting replaces the direct estimate only if its statistics are clearly closer;
//   5. tail_slope is the least-squares slope of the last octaves of the trend (how it extrapolates).
#pragma once

#include <cstdint>
#include <string>

#include "traces/format/trace.hpp"
#include "traces/synth/attention_model.hpp"

namespace hgca::traces::synth {

struct FitOptions {
  int64_t sinks = 4;
  int64_t window = 1024;     // the window whose mass the quality figures report
  uint64_t seed = 1;         // random numbers of the model evaluations
  int64_t eval_steps = 8;    // decode positions the model is evaluated on
  int64_t max_steps = 0;     // real decode steps measured (evenly spaced); 0: all
  int threads = 0;           // heads fitted in parallel; 0: hardware concurrency. Results do not depend on it.
  std::string source_path;   // stamped into the model
  std::string fitted_by;     // stamped into the model
};

// Throws TraceError (bad trace) or ModelError (bad options, naming the option).
AttentionModel fit_model(const TraceSource& trace, const FitOptions& options);

}  // namespace hgca::traces::synth
