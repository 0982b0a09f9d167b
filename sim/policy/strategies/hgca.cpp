// hgca: the recent window (plus sinks) of each sequence on the GPU, older KV in CPU memory. Per layer the
// GPU attends densely over its window while the queries cross to the host, CPU cores attend sparsely over
// each head's selected entries, and the partial output + LSE come back to be merged by log-sum-exp. Tokens
// leaving the window are written back to CPU memory `eviction_batch` at a time, off the critical path.
#include <algorithm>

#include "sim/policy/cpu_attention_tasks.hpp"
#include "sim/policy/strategies/strategies.hpp"
#include "sim/policy/window_layout.hpp"

namespace hgca {

namespace {
class Hgca final : public Strategy {
 public:
  using Strategy::Strategy;
  const char* name() const override { return "hgca"; }
  int64_t reported_window() const override { return ctx_.exp.system.window; }

  MemoryPlan plan_memory(const std::vector<int64_t>& prompts, const std::vector<int64_t>& finals) const override {
    const SystemSpec& s = ctx_.exp.system;
    const ModelCosts& c = ctx_.costs;
    const double per_token = c.kv_bytes_per_token_layer() * c.shape().layers;
    MemoryPlan p = base_memory(prompts);
    double gpu_tokens = 0, cpu_tokens = 0, prefill_cpu = 0;
    for (size_t i = 0; i < finals.size(); ++i) {
      gpu_tokens += std::min<int64_t>(finals[i], s.sinks + s.window + s.eviction_batch - 1);
      cpu_tokens += layout(finals[i]).cpu;
      prefill_cpu += layout(prompts[i]).cpu;
    }
    const double batch = static_cast<double>(finals.size());
    p.gpu.kv = gpu_tokens * per_token;
    p.cpu.kv = cpu_tokens * per_token;
    // Query and partial-result buffers on both sides, one eviction batch of one layer, and during prefill the
    // double-buffered fetch of one layer's offloaded prefix.
    const double exchange = c.cpu_query_bytes(batch) + c.partial_bytes(batch);
    const double evict = batch * s.eviction_batch * c.kv_bytes_per_token_layer();
    const double prefill_fetch = ctx_.exp.workload.simulate_prefill ? 2.0 * prefill_cpu * c.kv_bytes_per_token_layer() : 0;
    p.gpu.staging = std::max(exchange + evict, prefill_fetch);
    p.cpu.staging = exchange + evict;
    if (s.selection_method == SelectionMethod::BlockSummary)
      p.cpu.metadata = cpu_tokens / std::max<int64_t>(1, s.summary_block) * 2.0 * c.shape().kv_heads *
                       c.key_bytes_per_token_head() * c.shape().layers;
    return p;
  }

 protected:
  WindowLayout layout(int64_t context) const {
    const SystemSpec& s = ctx_.exp.system;
    return WindowLayout::of(context, s.sinks, s.window, s.eviction_batch);
  }

  OpId decode_attention(int layer, const DecodeStep& step, StepGraph& g, OpId q_ready) const override {
    const ModelCosts& c = ctx_.costs;
    const double batch = static_cast<double>(step.contexts.size());
    cpu_entries_.clear();
    Cost window{};
    double evicting = 0;
    for (int64_t ctx : step.contexts) {
      const WindowLayout w = layout(ctx);
      const Cost a = c.attention(1, static_cast<double>(w.gpu));
      window.flops += a.flops;
      window.bytes += a.bytes;
      cpu_entries_.push_back(w.cpu);
      if (w.evicts_now) evicting += static_cast<double>(ctx_.exp.system.eviction_batch);
    }
    const bool any_cpu = std::any_of(cpu_entries_.begin(), cpu_entries_.end(), [](int64_t n) { return n > 0; });
    // A host that blocks on the device (host.sync > 0) does what a synchronous runner does (HybridStep):
    // wait for the queries to exist (the decode step's QKV projection) and to reach host memory before the
    // CPU tasks start, for the CPU tasks before issuing the result copy, and for the merge before going on.
    // Each wait on the device costs host.sync after the awaited work ends; waiting for the CPU tasks (a
    // join of the worker threads) costs nothing extra here. With sync 0 the host issues everything up
    // front and never blocks, as before.
    const double sync = ctx_.exp.hardware.host.sync_s;
    const bool blocking = sync > 0 && any_cpu;
    if (blocking && q_ready != kNoOp) g.host("wait queries (GPU)", layer, sync, {q_ready});
    OpId q_host = kNoOp;
    if (any_cpu) q_host = g.copy(Unit::D2H, 0, "queries to host", layer, c.cpu_query_bytes(batch), {q_ready});
    const OpId win = gpu_kernel(g, KernelKind::Attention, "window-attn", layer, window);
    if (evicting > 0)  // write-back of the tokens leaving the window, on its own stream
      g.copy(Unit::D2H, 1, "evict KV", layer, evicting * c.kv_bytes_per_token_layer(), {q_ready});
    if (!any_cpu) return win;
    if (blocking) g.host("wait queries (host)", layer, sync, {q_host});
    const OpId sparse = g.cpu_batch(0, "sparse-attn", layer, {q_host});
    add_tasks(g, layer, step.step);
    if (blocking) g.host_after_cpu("wait CPU attention", layer, 0, sparse);
    const OpId back = g.copy(Unit::H2D, 0, "partials to GPU", layer, c.partial_bytes(batch), {sparse});
    const OpId merged = gpu_kernel(g, KernelKind::Merge, "lse-merge", layer, c.merge(batch), {back, win});
    if (blocking) g.host("wait merge", layer, sync, {merged});
    return merged;
  }

  PrefillKv prefill_kv() const override { return {true, false}; }
  int64_t prefill_gpu_resident(int64_t prompt) const override { return layout(prompt).gpu; }

 private:
  // The CPU-resident counts change only when a batch leaves the window, so a layer's tasks are the same for
  // many steps in a row: reuse them unless the selection method depends on the step.
  void add_tasks(StepGraph& g, int layer, int step) const {
    if (cache_.size() <= static_cast<size_t>(layer)) cache_.resize(layer + 1);
    TaskCache& c = cache_[layer];
    const bool reusable = ctx_.exp.system.selection_method != SelectionMethod::ReuseLast;
    if (reusable && c.valid && c.entries == cpu_entries_) {
      g.cpu_tasks(c.tasks);
      return;
    }
    const size_t first = g.tasks().size();
    add_sparse_attention_tasks(g, ctx_, layer, step, cpu_entries_);
    c.tasks.assign(g.tasks().begin() + static_cast<std::ptrdiff_t>(first), g.tasks().end());
    c.entries = cpu_entries_;
    c.valid = reusable;
  }
  struct TaskCache {
    bool valid = false;
    std::vector<int64_t> entries;
    std::vector<CpuTask> tasks;
  };
  mutable std::vector<int64_t> cpu_entries_;  // scratch, reused every layer
  mutable std::vector<TaskCache> cache_;
};
}  // namespace

std::unique_ptr<Strategy> make_hgca(const StrategyContext& ctx) {
  if (ctx.exp.system.preset == HgcaPreset::Paper) return make_hgca_paper(ctx);
  return std::make_unique<Hgca>(ctx);
}

}  // namespace hgca
