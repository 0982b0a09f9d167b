// One layer of a recorded attention trace turned into HGCA decode problems for the kernel tests: for a few
// decode steps, every query head's exact attention over all positions it may see, split the way HGCA splits
// it (sinks + recent window on the GPU side, the rest in the CPU pool) with a per-head top-k selection of the
// pool by the head's true scores. Real queries, keys and values, not random ones: peaky heads, outlier
// channels and long contexts as the model produced them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/cpu/kv_store.hpp"
#include "kernels/ref/reference_attention.hpp"
#include "tests/kernels/test_support.hpp"

namespace hgca::kernels::test {

// The trace the checks read: $HGCA_CHECK_TRACE when set, else the smallest trace shipped in traces/data
// (chosen at configure time; looked for under ./traces/data when the binary runs on another machine). Empty
// when there is none.
std::string check_trace_path();

struct TraceSplit {
  std::int64_t window = 256;    // recent positions on the GPU side (the decode token's own included)
  std::int64_t sinks = 4;       // first positions on the GPU side
  double cpu_fraction = 0.05;   // share of the pool each head attends (top by true score); 1 = all of it
  int steps = 6;                // decode steps checked, spread over the trace's recorded steps
};

struct TraceCase {
  int q_heads = 0, kv_heads = 0, head_dim = 0;
  double scale = 0;
  std::vector<std::int64_t> positions;     // per checked step ("sequence"): tokens it attends (p + 1)
  std::vector<float> q;                    // [steps x q_heads x head_dim], as recorded
  // The trace's K/V of this layer in fp32 as read from the file (original values) and the same rows as the
  // kernels store them (fp16), both per (step, kv_head) [tokens x head_dim] in double for the reference.
  std::vector<std::vector<ref::RowMatrix>> k_orig, v_orig, k_stored, v_stored;
  KvStore kv{KvType::f16, 1, 1, {0}};      // fp16, one "sequence" per checked step (placeholder until built)
  Lists window, pool;                      // per (step, q_head): GPU-side positions; selected pool positions
  std::int64_t pool_selected = 0;          // positions selected over all rows (for reporting)
};

// Loads layer `layer` of the trace at `path` and builds the split. Throws on a bad trace.
TraceCase make_trace_case(const std::string& path, int layer, const TraceSplit& split);

// Reference over a row's positions (double), on the original or the stored values.
ref::Result trace_reference(const TraceCase& c, int step, int q_head, const std::vector<std::int64_t>& positions,
                            bool stored_values);
std::vector<std::int64_t> all_positions(const TraceCase& c, int step);
// The union of the window and pool positions of a row.
std::vector<std::int64_t> union_positions(const TraceCase& c, int step, int q_head);

}  // namespace hgca::kernels::test
