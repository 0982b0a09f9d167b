// Whole-trace checks beyond what opening a file does: read every block (so a NaN/Inf anywhere is found, with
// its place), and recompute every stored attention output from the trace's own Q/K/V with the
// double-precision reference (kernels/ref). `hgca trace info` runs both.
#pragma once

#include <cstdint>
#include <string>

#include "traces/format/trace.hpp"

namespace hgca::traces {

struct TraceScan {
  int64_t blocks = 0;  // (layer, head) blocks read, over keys, values, queries, outputs and prompt queries
  double max_abs_key = 0, max_abs_value = 0, max_abs_query = 0, max_abs_output = 0, max_abs_prompt_query = 0;
};
// Reads every block once; throws the reader's TraceError at the first bad one.
TraceScan scan_trace(const TraceSource& trace);

struct OutputCheck {
  // Relative error of one output vector: |o_stored - o_ref|_2 / |o_ref|_2, where o_ref is causal attention
  // of the stored query over the stored keys/values 0..p (p = prompt_length + step), scale softmax_scale,
  // query head h reading KV head h / group_size, in double precision.
  double max_rel_error = 0;
  double mean_rel_error = 0;
  int worst_layer = -1;
  int worst_head = -1;
  int64_t worst_step = -1;
  int64_t vectors = 0;  // output vectors compared
};
// Compares decode steps 0, stride, 2*stride, ... (and always the last one) of every layer and query head.
// Throws TraceError when the trace stores no outputs or stride < 1.
OutputCheck check_outputs(const TraceSource& trace, int64_t step_stride = 1);

// The largest max_rel_error that counts as agreement for a storage dtype: the stored Q/K/V/outputs are
// rounded to it, so recomputation differs from the model by that rounding (FORMAT.md gives the derivation).
double output_tolerance(const std::string& storage_dtype);

}  // namespace hgca::traces
