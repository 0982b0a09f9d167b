#include "sim/sweep/point_details.hpp"

#include <algorithm>
#include <limits>
#include <numeric>
#include <string>

#include "sim/config/names.hpp"
#include "sim/policy/selection.hpp"

namespace hgca {
namespace {

bool selects_on_cpu(const std::string& strategy) { return strategy == "hgca" || strategy == "fetch-topk"; }

// CPU-resident entries per sequence when decoding starts: the prompt less what the GPU window keeps.
double cpu_resident_entries(const Experiment& p) {
  const double kept = static_cast<double>(p.system.window + p.system.sinks);
  return std::max(1.0, static_cast<double>(p.workload.prompt) - kept);
}

}  // namespace

std::vector<Parameter> point_parameters(const Experiment& p) {
  const auto number = [](const char* key, const char* unit, double v) {
    return Parameter{.key = key, .unit = unit, .is_text = false, .number = v, .text = {}};
  };
  const auto word = [](const char* key, std::string_view v) {
    return Parameter{.key = key, .unit = "", .is_text = true, .number = 0, .text = std::string(v)};
  };
  const HardwareProfile& hw = p.hardware;
  const SystemSpec& s = p.system;
  std::vector<Parameter> out = {
      number("hardware.gpu.memory", "bytes", hw.gpu.memory_bytes),
      number("hardware.gpu.hbm_bandwidth", "B/s", hw.gpu.hbm_bandwidth),
      number("hardware.pcie.h2d.bandwidth", "B/s", hw.pcie.h2d.bandwidth),
      number("hardware.pcie.d2h.bandwidth", "B/s", hw.pcie.d2h.bandwidth),
      number("hardware.pcie.duplex_bandwidth", "B/s", hw.pcie.duplex_bandwidth),
      number("hardware.cpu.cores", "", hw.cpu.cores),
      number("hardware.cpu.memory", "bytes", hw.cpu.memory_bytes),
      number("workload.prefill_chunk", "tokens", static_cast<double>(p.workload.prefill_chunk)),
      number("system.sinks", "tokens", static_cast<double>(s.sinks)),
      number("system.eviction_batch", "tokens", static_cast<double>(s.eviction_batch)),
      number("system.cpu_threads", "", s.cpu_threads),
      word("system.cpu_schedule", to_string(s.cpu_schedule)),
      word("system.cpu_task", to_string(s.cpu_task)),
      number("system.prefetch_layers", "", s.prefetch_layers),
      word("system.selection_method", to_string(s.selection_method)),
      number("system.summary_block", "tokens", static_cast<double>(s.summary_block)),
      number("system.reselect_interval", "", s.reselect_interval),
      word("system.selection.source", to_string(s.selection.source)),
      word("system.selection.granularity", to_string(s.selection.granularity)),
      number("system.selection.fraction", "", s.selection.fraction),
      number("system.selection.top_k", "tokens", static_cast<double>(s.selection.top_k)),
      number("system.selection.median_fraction", "", s.selection.median_fraction),
      number("system.selection.sigma", "", s.selection.sigma),
      number("system.selection.max_fraction", "", s.selection.max_fraction),
  };
  return out;
}

HeadSelection point_head_selection(const Experiment& p) {
  HeadSelection heads;
  if (!selects_on_cpu(p.system.strategy)) return heads;
  const SelectionModel model(p.system.selection, p.model, p.seed);
  heads.layers = p.model.layers;
  heads.heads = p.model.q_heads;
  heads.fraction = model.fractions();
  if (p.system.selection.source == SelectionSource::TopK) {
    const double n = cpu_resident_entries(p);
    for (int l = 0; l < heads.layers; ++l)
      for (int h = 0; h < heads.heads; ++h) heads.fraction[static_cast<size_t>(l * heads.heads + h)] = model.entries(l, h, n) / n;
  }
  return heads;
}

void add_point_details(const Experiment& point, RunResult& run) {
  run.parameters = point_parameters(point);
  run.head_selection = point_head_selection(point);
  if (!run.head_selection.fraction.empty()) {
    const auto& f = run.head_selection.fraction;
    // The mean budget over heads: the sparsity axis of the Pareto figure, whatever the selection source.
    run.parameters.push_back({.key = "selection.mean_fraction", .unit = "", .is_text = false,
                              .number = std::accumulate(f.begin(), f.end(), 0.0) / static_cast<double>(f.size()),
                              .text = {}});
  } else {
    // Not applicable (no CPU selection): NaN, which figures leave out.
    run.parameters.push_back({.key = "selection.mean_fraction", .unit = "", .is_text = false,
                              .number = std::numeric_limits<double>::quiet_NaN(), .text = {}});
  }
}

}  // namespace hgca
