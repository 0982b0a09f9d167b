// What one simulated configuration produced. Plain data: writers in this folder turn it into a table,
// HDF5, CSV and timelines; nothing here knows how it was computed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hgca {

// Bytes held in one memory, split by what holds them.
struct MemoryUse {
  double weights = 0;
  double kv = 0;           // KV cache entries resident here
  double activations = 0;  // workspace for one step
  double staging = 0;      // transfer buffers (queries, partial outputs, LSE, eviction batches, prefetch)
  double metadata = 0;     // selection indices, block summaries
  double total() const { return weights + kv + activations + staging + metadata; }
};

// Time each resource spent busy over the decode phase (seconds). CPU is summed over cores.
struct BusyTime {
  double gpu = 0;
  double h2d = 0;
  double d2h = 0;
  double cpu_core_seconds = 0;
  double host = 0;  // the host thread that drives the GPU (launches, synchronisation)
};

// One span on the timeline (Chrome trace "complete" event).
struct TimelineSpan {
  std::string track;  // "GPU compute", "PCIe H2D", "PCIe D2H", "CPU core 3", "host thread"
  std::string name;   // e.g. "L12 window-attn"
  double start_s = 0;
  double dur_s = 0;
  int step = 0;       // decode step (-1 for prefill)
  int layer = -1;
};

// A configuration value figures may plot against, by its key path in the experiment file
// ("hardware.pcie.h2d.bandwidth" = 64e9 B/s, "system.selection_method" = "key-scan"). Numbers are in SI units.
struct Parameter {
  std::string key;
  std::string unit;    // "B/s", "bytes", "" for counts, fractions and words
  bool is_text = false;
  double number = 0;   // when !is_text
  std::string text;    // when is_text
};

// Per-(layer, query head) share of its CPU-resident entries each head selects.
struct HeadSelection {
  int layers = 0;
  int heads = 0;
  std::vector<double> fraction;  // [layer * heads + head]; empty when the strategy selects nothing on the CPU
};

struct RunResult {
  // identity
  std::string experiment;   // experiment name
  std::string point_label;  // sweep point, "" when not a sweep
  std::string strategy;
  std::string hardware;
  std::string model;
  int batch = 0;
  int64_t context = 0;  // prompt length (max over requests)
  int64_t decode = 0;   // decode steps simulated
  int64_t window = 0;   // GPU window (0 where the strategy has none)
  uint64_t seed = 0;
  std::string resolved_yaml;

  // feasibility
  bool feasible = true;
  std::string infeasible_reason;  // one line, e.g. "GPU memory: KV 70.1 GiB + weights 15.0 GiB > 78.0 GiB usable"

  // performance (decode phase unless said otherwise)
  double prefill_s = 0;                // time to first token, whole batch
  std::vector<double> step_latency_s;  // one entry per decode step
  double decode_s = 0;                 // sum of step latencies
  double tokens_per_s = 0;             // generated tokens / decode_s, whole batch
  double step_p50_s = 0;
  double step_p99_s = 0;
  double step_mean_s = 0;
  BusyTime busy;
  int cpu_cores_used = 0;
  // CPU load imbalance over attention batches: mean of (slowest core's busy time / mean core busy time)
  double cpu_imbalance = 1.0;

  // memory (peak over the run)
  MemoryUse gpu_memory;
  MemoryUse cpu_memory;
  double gpu_capacity = 0;  // usable bytes
  double cpu_capacity = 0;

  // bookkeeping
  uint64_t events = 0;     // discrete events processed
  double wall_s = 0;       // host wall time of the simulation
  std::vector<TimelineSpan> timeline;  // filled only when a timeline was requested

  // Filled by the sweep driver from the configuration (sim/sweep/point_details.hpp), not by the runner.
  std::vector<Parameter> parameters;
  HeadSelection head_selection;

  // Time shares of the decode phase, in [0, 1].
  double gpu_share() const { return decode_s > 0 ? busy.gpu / decode_s : 0; }
  double h2d_share() const { return decode_s > 0 ? busy.h2d / decode_s : 0; }
  double d2h_share() const { return decode_s > 0 ? busy.d2h / decode_s : 0; }
  double cpu_share() const {
    return decode_s > 0 && cpu_cores_used > 0 ? busy.cpu_core_seconds / (decode_s * cpu_cores_used) : 0;
  }
};

}  // namespace hgca
