#include "sim/calibration/predict.hpp"

#include <vector>

#include "sim/engine/simulator.hpp"
#include "sim/hw/gpu_cost.hpp"
#include "sim/hw/machine.hpp"
#include "sim/model/model_costs.hpp"
#include "sim/policy/cpu_attention_tasks.hpp"
#include "sim/policy/selection.hpp"
#include "sim/policy/strategy.hpp"

namespace hgca {

namespace {

// A model shape holding only what one attention (or merge, or GEMM) kernel's cost depends on.
ModelShape kernel_shape(const Measurement& m) {
  ModelShape s;
  s.name = "measured-shape";
  s.layers = 1;
  s.q_heads = m.q_heads > 0 ? m.q_heads : 1;
  s.kv_heads = m.kv_heads > 0 ? m.kv_heads : s.q_heads;
  s.head_dim = m.head_dim > 0 ? m.head_dim : 1;
  s.hidden = 1;
  s.intermediate = 1;
  s.vocab = 1;
  s.kv_bytes_per_elem = m.dtype_bytes;
  s.weight_bytes_per_param = m.dtype_bytes;
  s.kv_dtype = s.weight_dtype = m.dtype;
  return s;
}

// Runs a graph on a fresh machine built from `hw` and returns its makespan in seconds. `repeated`: the
// microbenchmark ran it back to back (the attention rows), so its cache reuse period is its own length.
double run_graph(const HardwareProfile& hw, StepGraph& g, int cpu_threads, CpuSchedule schedule = CpuSchedule::Dynamic,
                 bool repeated = false) {
  Simulator sim;
  Machine machine(sim, hw, cpu_threads, schedule);
  if (repeated) machine.set_reuse_period(steady_reuse_period(hw, cpu_threads, schedule, g));
  return to_seconds(machine.execute(g));
}

double copy_seconds(const HardwareProfile& hw, const Measurement& m) {
  StepGraph g;
  if (m.direction != CopyDirection::D2H) g.copy(Unit::H2D, 0, "h2d", -1, m.bytes, {}, m.pageable);
  if (m.direction != CopyDirection::H2D) g.copy(Unit::D2H, 0, "d2h", -1, m.bytes, {}, m.pageable);
  return run_graph(hw, g, 1);
}

// Back-to-back launches of an empty kernel: the host thread launches in program order while the GPU runs
// them one at a time, so the mean per launch is about max(kernel_launch, kernel_min).
double launch_seconds(const HardwareProfile& hw, const Measurement& m) {
  StepGraph g;
  for (int i = 0; i < m.count; ++i) g.kernel(0, KernelKind::Other, "empty", -1, 0, 0);
  return run_graph(hw, g, 1) / m.count;
}

double cpu_read_seconds(const HardwareProfile& hw, const Measurement& m, bool gather) {
  StepGraph g;
  g.cpu_batch(0, gather ? "gather" : "stream", -1);
  CpuTask t;
  (gather ? t.gather_bytes : t.bytes) = m.bytes / m.threads;
  for (int i = 0; i < m.threads; ++i) g.cpu_task(t);
  return run_graph(hw, g, m.threads);
}

double cpu_attention_seconds(const HardwareProfile& hw, const Measurement& m) {
  Experiment exp;
  exp.hardware = hw;
  exp.model = kernel_shape(m);
  exp.system.cpu_task = m.task;
  exp.system.cpu_threads = m.threads;
  exp.system.summary_block = m.block;
  exp.system.selection.source = SelectionSource::TopK;
  exp.system.selection.top_k = m.selected;
  // Lists given in advance: the attention over each query head's own rows and no selection work (the settings
  // `hgca validate` predicts the runner with).
  switch (m.method) {
    case CpuAttentionMethod::KeyScan: exp.system.selection_method = SelectionMethod::KeyScan; break;
    case CpuAttentionMethod::BlockSummary: exp.system.selection_method = SelectionMethod::BlockSummary; break;
    case CpuAttentionMethod::Given:
      exp.system.selection_method = SelectionMethod::Given;
      exp.system.selection.granularity = SelectionGranularity::QueryHead;
      break;
    case CpuAttentionMethod::Dense: break;
  }
  const ModelCosts costs(exp.model);
  const SelectionModel selection(exp.system.selection, exp.model, exp.seed);
  const StrategyContext ctx{exp, costs, selection};
  const std::vector<int64_t> entries(static_cast<size_t>(m.batch), m.kv_len);
  StepGraph g;
  g.cpu_batch(0, "attention", 0);
  if (m.method == CpuAttentionMethod::Dense)
    add_dense_attention_tasks(g, ctx, entries);
  else
    add_sparse_attention_tasks(g, ctx, /*layer=*/0, /*step=*/0, entries);
  return run_graph(hw, g, m.threads, CpuSchedule::Dynamic, /*repeated=*/true);
}

}  // namespace

double predict_seconds(const HardwareProfile& hw, const Measurement& m) {
  switch (m.primitive) {
    case Primitive::PcieCopy:
      return copy_seconds(hw, m);
    case Primitive::GpuLaunch:
      return launch_seconds(hw, m);
    case Primitive::GpuAttention: {
      // One kernel over the batch, costed as gpu-full costs it: the sum of each sequence's attention.
      const Cost one = ModelCosts(kernel_shape(m)).attention(static_cast<double>(m.q_len), static_cast<double>(m.kv_len));
      return gpu_kernel_seconds(hw.gpu, KernelKind::Attention, one.flops * m.batch, one.bytes * m.batch);
    }
    case Primitive::GpuGemm: {
      // (m x k)(k x n) is what the model charges for an MLP down projection with intermediate k, hidden n.
      ModelShape s = kernel_shape(m);
      s.intermediate = static_cast<int>(m.k);
      s.hidden = static_cast<int>(m.n);
      const Cost c = ModelCosts(s).mlp_down(static_cast<double>(m.m));
      return gpu_kernel_seconds(hw.gpu, KernelKind::Gemm, c.flops, c.bytes);
    }
    case Primitive::GpuMerge: {
      const Cost c = ModelCosts(kernel_shape(m)).merge(m.batch);
      return gpu_kernel_seconds(hw.gpu, KernelKind::Merge, c.flops, c.bytes);
    }
    case Primitive::CpuStream:
      return cpu_read_seconds(hw, m, false);
    case Primitive::CpuGather:
      return cpu_read_seconds(hw, m, true);
    case Primitive::CpuAttention:
      return cpu_attention_seconds(hw, m);
  }
  return 0;
}

}  // namespace hgca
