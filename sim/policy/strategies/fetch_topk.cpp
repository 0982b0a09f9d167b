// fetch-topk (InfiniGen/ShadowKV-like): the window stays on the GPU as in hgca, but the CPU-resident
// entries a head needs are fetched to the GPU instead of attended on the CPU. A speculation kernel scores
// per-block key summaries kept on the GPU, using queries of `prefetch_layers` layers earlier so the fetch can
// start ahead; the indices go to the host, CPU cores gather the rows into a pinned buffer, the rows cross
// PCIe, and the GPU attends over window + fetched rows in one kernel.
#include <algorithm>
#include <cmath>

#include "sim/policy/cpu_attention_tasks.hpp"
#include "sim/policy/strategies/strategies.hpp"
#include "sim/policy/window_layout.hpp"

namespace hgca {

namespace {
class FetchTopK final : public Strategy {
 public:
  using Strategy::Strategy;
  const char* name() const override { return "fetch-topk"; }
  int64_t reported_window() const override { return ctx_.exp.system.window; }

  MemoryPlan plan_memory(const std::vector<int64_t>& prompts, const std::vector<int64_t>& finals) const override {
    const SystemSpec& s = ctx_.exp.system;
    const ModelCosts& c = ctx_.costs;
    const int layers = c.shape().layers;
    MemoryPlan p = base_memory(prompts);
    double gpu_tokens = 0, cpu_tokens = 0, fetched = 0, prefill_cpu = 0;
    for (size_t i = 0; i < finals.size(); ++i) {
      const WindowLayout w = layout(finals[i]);
      gpu_tokens += std::min<int64_t>(finals[i], s.sinks + s.window + s.eviction_batch - 1);
      cpu_tokens += w.cpu;
      prefill_cpu += layout(prompts[i]).cpu;
      double worst = 0;  // the largest per-layer fetch of this sequence
      for (int l = 0; l < layers; ++l) {
        double sum = 0;
        for (int kv = 0; kv < c.shape().kv_heads; ++kv) sum += fetched_rows(l, kv, static_cast<double>(w.cpu));
        worst = std::max(worst, sum);
      }
      fetched += worst;
    }
    p.gpu.kv = gpu_tokens * c.kv_bytes_per_token_layer() * layers;
    p.gpu.metadata = summary_bytes(cpu_tokens) * layers;
    const double ring = (std::max(0, s.prefetch_layers) + 1.0) * fetched * c.kv_bytes_per_token_head();
    const double prefill_fetch =
        ctx_.exp.workload.simulate_prefill ? 2.0 * prefill_cpu * c.kv_bytes_per_token_layer() : 0;
    p.gpu.staging = std::max(ring, prefill_fetch);
    p.cpu.kv = cpu_tokens * c.kv_bytes_per_token_layer() * layers;
    p.cpu.staging = ring;
    return p;
  }

 protected:
  WindowLayout layout(int64_t context) const {
    const SystemSpec& s = ctx_.exp.system;
    return WindowLayout::of(context, s.sinks, s.window, s.eviction_batch);
  }
  // Per-block min/max keys of the CPU-resident entries, all KV heads of one layer.
  double summary_bytes(double cpu_tokens) const {
    const double blk = static_cast<double>(std::max<int64_t>(1, ctx_.exp.system.summary_block));
    return std::ceil(cpu_tokens / blk) * 2.0 * ctx_.costs.shape().kv_heads * ctx_.costs.key_bytes_per_token_head();
  }
  double fetched_rows(int layer, int kv, double n) const {
    if (ctx_.selection.granularity() == SelectionGranularity::KvHead) return ctx_.selection.group_entries(layer, kv, n);
    const int group = ctx_.costs.group_size();
    double sum = 0;
    for (int h = kv * group; h < (kv + 1) * group; ++h) sum += ctx_.selection.entries(layer, h, n);
    return std::min(sum, n);
  }

  OpId decode_attention(int layer, const DecodeStep& step, StepGraph& g, OpId q_ready) const override {
    const ModelCosts& c = ctx_.costs;
    const int depth = std::max(0, ctx_.exp.system.prefetch_layers);
    if (layer == 0) q_ready_.clear();
    q_ready_.push_back(q_ready);
    cpu_entries_.clear();
    double summaries = 0, evicting = 0, gpu_tokens_total = 0, rows_total = 0;
    Cost attn{};
    for (int64_t ctx : step.contexts) {
      const WindowLayout w = layout(ctx);
      cpu_entries_.push_back(w.cpu);
      summaries += summary_bytes(static_cast<double>(w.cpu));
      if (w.evicts_now) evicting += static_cast<double>(ctx_.exp.system.eviction_batch);
      double rows = 0;
      for (int kv = 0; kv < c.shape().kv_heads; ++kv) rows += fetched_rows(layer, kv, static_cast<double>(w.cpu));
      rows_total += rows;
      gpu_tokens_total += w.gpu;
      // One kernel attends over window + fetched rows: per-head rows averaged over the KV heads.
      const Cost a = c.attention(1, static_cast<double>(w.gpu) + rows / c.shape().kv_heads);
      attn.flops += a.flops;
      attn.bytes += a.bytes;
    }
    OpId fetch = kNoOp;
    if (rows_total > 0) {
      const OpId early_q = q_ready_[std::max(0, layer - depth)];
      const double batch = static_cast<double>(step.contexts.size());
      const OpId spec = gpu_kernel(g, KernelKind::Selection, "speculate top-k", layer,
                                   Cost{4.0 * summaries / c.kv_bytes_per_token_head() * c.shape().head_dim * c.group_size(),
                                        summaries + c.query_bytes(batch)},
                                   {early_q}, /*stream=*/1);
      const OpId idx = g.copy(Unit::D2H, 0, "indices to host", layer, rows_total * 4.0, {spec});
      const OpId gather = g.cpu_batch(0, "gather rows", layer, {idx});
      const double bytes = add_gather_tasks(g, ctx_, layer, cpu_entries_);
      fetch = g.copy(Unit::H2D, 0, "fetch selected KV", layer, bytes, {gather});
    }
    if (evicting > 0) g.copy(Unit::D2H, 1, "evict KV", layer, evicting * c.kv_bytes_per_token_layer(), {q_ready});
    return gpu_kernel(g, KernelKind::Attention, "attn window+fetched", layer, attn, {fetch});
  }

  PrefillKv prefill_kv() const override { return {true, false}; }
  int64_t prefill_gpu_resident(int64_t prompt) const override { return layout(prompt).gpu; }

 private:
  mutable std::vector<OpId> q_ready_;
  mutable std::vector<int64_t> cpu_entries_;
};
}  // namespace

std::unique_ptr<Strategy> make_fetch_topk(const StrategyContext& ctx) { return std::make_unique<FetchTopK>(ctx); }

}  // namespace hgca
