// What one hybrid attention step runs: the attention shape, how each sequence's context is split between
// the GPU window and the CPU pool, and how the CPU side picks its rows.
//
// Token placement (per sequence of `context` tokens): positions [0, sinks) and the last window - sinks
// positions live in the GPU window (window rows); the positions between them live in the CPU pool, pool
// row r holding position sinks + r. A context no longer than the window puts everything on the GPU.
#pragma once

#include <cstdint>
#include <string>

#include "kernels/cpu/kv_types.hpp"
#include "kernels/cpu/sparse_attention.hpp"
#include "kernels/cpu/status.hpp"
#include "kernels/cpu/thread_pool.hpp"
#include "kernels/cuda/decode_attention.hpp"

namespace hgca::kernels::hybrid {

enum class Selection { random, topk };
const char* selection_name(Selection s);  // "random" | "topk"

struct HybridConfig {
  int batch = 16;
  int q_heads = 32;
  int kv_heads = 8;
  int head_dim = 128;
  std::int64_t context = 32768;
  std::int64_t window = 4096;  // GPU rows per sequence, sinks included
  std::int64_t sinks = 0;
  KvType type = KvType::f16;
  // Rows of the pool each query head attends: cpu_select if >= 0, else round(cpu_fraction x pool rows).
  double cpu_fraction = 0.1;
  std::int64_t cpu_select = -1;
  // random: a random subset per head, drawn before each step outside the timed region (selection costs
  // nothing in the step); topk: each step scores every pool key (kernels/cpu score_keys) and keeps each
  // head's top rows (timed as cpu_select).
  Selection selection = Selection::random;
  // Draw new random lists for every step. Off, every step reads the same rows, and with a small fraction
  // they stay in the CPU's last-level cache: the CPU side would then measure the cache, not DRAM.
  bool redraw = true;
  TaskGranularity granularity = TaskGranularity::kv_group;
  int threads = 0;  // CPU threads, the calling thread included; 0 = all hardware threads
  // How long the CPU workers spin between steps before they park (kernels/cpu ThreadPool). 0 parks at
  // once, and each step then pays the wake of every worker; a serving system may keep them hot instead.
  int worker_spin_us = static_cast<int>(kDefaultWorkerSpin.count());
  // The CPU pool on transparent huge pages (kernels/cpu KvStore): what a serving system would give a KV
  // pool of gigabytes read at random.
  bool huge_pages = true;
  std::uint64_t seed = 1;
  cuda::DecodeConfig gpu;

  std::int64_t pool_rows() const { return context > window ? context - window : 0; }
  std::int64_t window_rows() const { return context < window ? context : window; }
  std::int64_t selected_per_head() const;
};

// Every constraint at once; the message names the option (--batch, --window, ...).
Status validate(const HybridConfig& c);

}  // namespace hgca::kernels::hybrid
