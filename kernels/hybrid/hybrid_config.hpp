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
  // Read the whole CPU pool once, after setup and before the first step, so that the last-level cache holds
  // what a long run of steps leaves there: all of a pool that fits, the last-read share of a larger one. That
  // steady state is what the simulator's cache term (cpu.llc_bytes / the step's working set) describes and the
  // microbenchmarks' LLC sweep fits. Off, a step meets whatever setup left behind: filling the GPU window
  // streams its host copies through the cache after the pool, and a few dozen steps of fresh random lists (a
  // few % of the rows each) bring back only part of a pool that fits. (Device run 14 measured no difference
  // either way, a median -0.3 %; the read makes the state defined rather than faster.)
  bool warm_pool = true;
  // Distinct copies of the CPU pool (same contents), read in turn by successive steps. A model step runs one
  // HybridStep for every layer, and a real model keeps a pool per layer: with one copy, a pool that fits the
  // last-level cache would serve every layer from it, which the simulator (whose cache term divides by the
  // layers' combined working set) rightly does not credit. See layer_pool_copies.
  int pool_copies = 1;
  // Where the CPU phase reads its queries and writes its partial result: false (a serving system's way), the
  // pinned (cudaMallocHost) buffers the copies use; true, ordinary pageable buffers, with host copies to and
  // from the pinned ones outside the CPU phase's timer. A probe: if pinned host memory were slow to touch (it
  // is the driver's mapping, and the device machine runs under gVisor), a small step's CPU phase would carry a
  // per-task cost that the microbenchmarks, whose buffers are pageable, never see.
  bool pageable_cpu_io = false;
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

// Bytes of one copy of the CPU pool (keys and values of every sequence).
double pool_bytes(const HybridConfig& c);

// The copies of a pool of `bytes` that a model step of `layers` layers cycles through: one per layer while
// they total at most `ring_bytes`, else as many as fit in it (at least one, at most kMaxPoolCopies). Once
// the copies add up to many times the last-level cache, more of them change the share it serves by little
// (a full ring holds at least half of ring_bytes: 4 GiB against a 105-300 MiB L3 leaves it under 8 %), so the
// ring stops there instead of holding layers x pool of host memory.
inline constexpr double kLayerPoolRingBytes = 8.0 * 1024 * 1024 * 1024;
inline constexpr int kMaxPoolCopies = 4096;
int layer_pool_copies(int layers, double bytes, double ring_bytes = kLayerPoolRingBytes);

}  // namespace hgca::kernels::hybrid
