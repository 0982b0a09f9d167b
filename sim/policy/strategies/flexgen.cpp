// flexgen: FlexGen's placement as the HGCA authors ran it as a baseline. A share `flexgen.kv_on_gpu` of each
// sequence's KV (its oldest tokens, FlexGen's cache GPU percent) stays on the GPU, the rest lives in CPU
// memory; weights follow system.weights_on_gpu like every strategy. Attention over the CPU part either runs
// on the GPU after the layer's CPU-resident KV is fetched over PCIe (with overlap_io one layer ahead into a
// second buffer; without, inside the layer), or on the CPU cores (`flexgen.cpu_attention`, FlexGen's
// --cpu-cache-compute): Q, K, V go to the host, the cores attend densely, the output comes back and is merged
// with the GPU part. Each new token's K, V are written back to CPU memory.
#include <algorithm>
#include <cmath>

#include "sim/policy/cpu_attention_tasks.hpp"
#include "sim/policy/strategies/strategies.hpp"

namespace hgca {

namespace {
class FlexGen final : public Strategy {
 public:
  using Strategy::Strategy;
  const char* name() const override { return "flexgen"; }

  MemoryPlan plan_memory(const std::vector<int64_t>& prompts, const std::vector<int64_t>& finals) const override {
    const ModelCosts& c = ctx_.costs;
    const double kv_layer = c.kv_bytes_per_token_layer();
    MemoryPlan p = base_memory(prompts);
    double gpu = 0, cpu = 0;
    for (int64_t t : finals) {
      gpu += static_cast<double>(on_gpu(t));
      cpu += static_cast<double>(t - on_gpu(t));
    }
    const double batch = static_cast<double>(finals.size());
    p.gpu.kv = gpu * kv_layer * c.shape().layers;
    p.cpu.kv = cpu * kv_layer * c.shape().layers;
    const double buffers = cpu_attention() ? 0.0 : (ctx_.exp.system.overlap_io ? 2.0 : 1.0);
    const double exchange = cpu_attention() ? 2.0 * c.query_bytes(batch) + c.partial_bytes(batch) : 0.0;
    p.gpu.staging = buffers * cpu * kv_layer + batch * kv_layer + exchange;
    p.cpu.staging = batch * kv_layer + exchange;
    return p;
  }

 protected:
  bool cpu_attention() const { return ctx_.exp.system.flexgen.cpu_attention; }
  int64_t on_gpu(int64_t context) const {
    return static_cast<int64_t>(std::floor(ctx_.exp.system.flexgen.kv_on_gpu * static_cast<double>(context)));
  }

  OpId decode_attention(int layer, const DecodeStep& step, StepGraph& g, OpId q_ready) const override {
    const ModelCosts& c = ctx_.costs;
    const double kv_layer = c.kv_bytes_per_token_layer();
    const double batch = static_cast<double>(step.contexts.size());
    double cpu_tokens = 0;
    Cost gpu_part{}, all{};
    entries_.clear();
    for (int64_t ctx : step.contexts) {
      const int64_t gpu = on_gpu(ctx - 1) + 1;  // the new token is on the GPU until it is written back
      entries_.push_back(ctx - gpu);
      cpu_tokens += static_cast<double>(ctx - gpu);
      const Cost a = c.attention(1, static_cast<double>(gpu)), b = c.attention(1, static_cast<double>(ctx));
      gpu_part.flops += a.flops;
      gpu_part.bytes += a.bytes;
      all.flops += b.flops;
      all.bytes += b.bytes;
    }
    g.copy(Unit::D2H, 1, "new KV to host", layer, batch * kv_layer, {q_ready});
    if (cpu_attention()) {
      const OpId up = g.copy(Unit::D2H, 0, "q,k,v to host", layer, c.query_bytes(batch) + batch * kv_layer, {q_ready});
      const OpId dense = g.cpu_batch(0, "dense-attn", layer, {up});
      add_dense_attention_tasks(g, ctx_, entries_);
      const OpId gpu = gpu_kernel(g, KernelKind::Attention, "attention (GPU part)", layer, gpu_part);
      const OpId back = g.copy(Unit::H2D, 0, "partials to GPU", layer, c.partial_bytes(batch), {dense});
      return gpu_kernel(g, KernelKind::Merge, "lse-merge", layer, c.merge(batch), {back, gpu});
    }
    // GPU attention after fetching the CPU part: with overlap, layer l + 1's fetch is issued now, into the
    // buffer layer l - 1 used; without, the layer fetches its own KV and waits.
    if (layer == 0) {
      fetch_.assign(c.shape().layers, kNoOp);
      attn_.assign(c.shape().layers, kNoOp);
    }
    const bool overlap = ctx_.exp.system.overlap_io;
    const double bytes = cpu_tokens * kv_layer;
    auto issue = [&](int j, OpId dep) {
      if (j < c.shape().layers && fetch_[j] == kNoOp && bytes > 0)
        fetch_[j] = g.copy(Unit::H2D, 0, "fetch KV", j, bytes, {dep});
    };
    if (overlap) {
      issue(layer, layer >= 2 ? attn_[layer - 2] : kNoOp);
      issue(layer + 1, layer >= 1 ? attn_[layer - 1] : kNoOp);
    } else {
      issue(layer, q_ready);
    }
    attn_[layer] = gpu_kernel(g, KernelKind::Attention, "attention", layer, all, {fetch_[layer]});
    return attn_[layer];
  }

  PrefillKv prefill_kv() const override { return {true, false}; }
  int64_t prefill_gpu_resident(int64_t prompt) const override { return on_gpu(prompt); }

 private:
  mutable std::vector<OpId> fetch_, attn_;
  mutable std::vector<int64_t> entries_;
};
}  // namespace

std::unique_ptr<Strategy> make_flexgen(const StrategyContext& ctx) { return std::make_unique<FlexGen>(ctx); }

}  // namespace hgca
