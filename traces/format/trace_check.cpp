#include "traces/format/trace_check.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/ref/reference_attention.hpp"

namespace hgca::traces {
namespace {

double max_abs(const std::vector<float>& block) {
  double m = 0;
  for (float x : block) m = std::max(m, static_cast<double>(std::fabs(x)));
  return m;
}

kernels::ref::RowMatrix to_matrix(const std::vector<float>& block, int64_t rows, int cols) {
  kernels::ref::RowMatrix m(rows, cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) m(r, c) = block[static_cast<size_t>(r * cols + c)];
  return m;
}

}  // namespace

TraceScan scan_trace(const TraceSource& trace) {
  const TraceMeta& m = trace.meta();
  TraceScan scan;
  std::vector<float> block;
  for (int layer = 0; layer < m.num_layers; ++layer) {
    for (int h = 0; h < m.num_kv_heads; ++h) {
      trace.keys(layer, h, block);
      scan.max_abs_key = std::max(scan.max_abs_key, max_abs(block));
      trace.values(layer, h, block);
      scan.max_abs_value = std::max(scan.max_abs_value, max_abs(block));
      scan.blocks += 2;
    }
    for (int h = 0; h < m.num_q_heads; ++h) {
      trace.queries(layer, h, block);
      scan.max_abs_query = std::max(scan.max_abs_query, max_abs(block));
      ++scan.blocks;
      if (m.has_outputs) {
        trace.outputs(layer, h, block);
        scan.max_abs_output = std::max(scan.max_abs_output, max_abs(block));
        ++scan.blocks;
      }
      if (m.has_prompt_queries()) {
        trace.prompt_queries(layer, h, block);
        scan.max_abs_prompt_query = std::max(scan.max_abs_prompt_query, max_abs(block));
        ++scan.blocks;
      }
    }
  }
  return scan;
}

OutputCheck check_outputs(const TraceSource& trace, int64_t step_stride) {
  const TraceMeta& m = trace.meta();
  if (!m.has_outputs) throw TraceError("check outputs: this trace stores no attention outputs");
  if (step_stride < 1) throw TraceError("check outputs: step stride must be >= 1");
  const int d = m.head_dim;
  const int64_t n = m.num_positions();
  std::vector<int64_t> prefix(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) prefix[static_cast<size_t>(i)] = i;

  OutputCheck check;
  double sum = 0;
  std::vector<float> kb, vb, qb, ob;
  for (int layer = 0; layer < m.num_layers; ++layer) {
    for (int kvh = 0; kvh < m.num_kv_heads; ++kvh) {
      trace.keys(layer, kvh, kb);
      trace.values(layer, kvh, vb);
      const kernels::ref::RowMatrix k = to_matrix(kb, n, d), v = to_matrix(vb, n, d);
      for (int h = kvh * m.group_size(); h < (kvh + 1) * m.group_size(); ++h) {
        trace.queries(layer, h, qb);
        trace.outputs(layer, h, ob);
        for (int64_t t = 0; t < m.decode_steps; ++t) {
          if (t % step_stride != 0 && t != m.decode_steps - 1) continue;
          Eigen::VectorXd q(d), stored(d);
          for (int c = 0; c < d; ++c) {
            q[c] = qb[static_cast<size_t>(t * d + c)];
            stored[c] = ob[static_cast<size_t>(t * d + c)];
          }
          const int64_t p = m.prompt_length + t;
          const auto ref = kernels::ref::attend_subset(
              q, k, v, std::span<const int64_t>(prefix.data(), static_cast<size_t>(p + 1)), m.softmax_scale);
          const double norm = std::max(ref.out.norm(), 1e-30);
          const double err = (stored - ref.out).norm() / norm;
          sum += err;
          ++check.vectors;
          if (err > check.max_rel_error || check.worst_layer < 0) {
            check.max_rel_error = err;
            check.worst_layer = layer;
            check.worst_head = h;
            check.worst_step = t;
          }
        }
      }
    }
  }
  check.mean_rel_error = check.vectors > 0 ? sum / static_cast<double>(check.vectors) : 0;
  return check;
}

double output_tolerance(const std::string& storage_dtype) {
  if (storage_dtype == "float32") return 1e-3;
  if (storage_dtype == "float16") return 2e-2;
  return 1.5e-1;  // bfloat16: 8 significant bits instead of 11
}

}  // namespace hgca::traces
