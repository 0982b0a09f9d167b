// offload-fetch (FlexGen-like): all KV lives in CPU memory; each layer's KV is fetched over PCIe for
// attention on the GPU, `prefetch_layers` layers ahead into a ring of buffers, and each new token's K, V are
// written back. Bound by PCIe bandwidth as context grows.
#include <algorithm>

#include "sim/policy/strategies/strategies.hpp"

namespace hgca {

namespace {
class OffloadFetch final : public Strategy {
 public:
  using Strategy::Strategy;
  const char* name() const override { return "offload-fetch"; }

  MemoryPlan plan_memory(const std::vector<int64_t>& prompts, const std::vector<int64_t>& finals) const override {
    const ModelCosts& c = ctx_.costs;
    MemoryPlan p = base_memory(prompts);
    double tokens = 0;
    for (int64_t t : finals) tokens += t;
    const double buffers = depth() + 1.0;
    p.gpu.kv = buffers * tokens * c.kv_bytes_per_token_layer();  // ring of per-layer buffers
    p.cpu.kv = tokens * c.kv_bytes_per_token_layer() * c.shape().layers;
    p.cpu.staging = p.gpu.staging = finals.size() * c.kv_bytes_per_token_layer();  // new tokens' K, V
    return p;
  }

 protected:
  int depth() const { return std::max(0, ctx_.exp.system.prefetch_layers); }

  OpId decode_attention(int layer, const DecodeStep& step, StepGraph& g, OpId q_ready) const override {
    const ModelCosts& c = ctx_.costs;
    const int layers = c.shape().layers;
    double tokens = 0;
    Cost a{};
    for (int64_t ctx : step.contexts) {
      tokens += static_cast<double>(ctx - 1);  // the new token is already on the GPU
      const Cost x = c.attention(1, static_cast<double>(ctx));
      a.flops += x.flops;
      a.bytes += x.bytes;
    }
    if (layer == 0) {
      fetch_.assign(layers, kNoOp);
      attn_.assign(layers, kNoOp);
    }
    // Issue every fetch the ring allows now: layer j's buffer frees when layer j - depth - 1 has attended.
    for (int j = layer; j <= std::min(layers - 1, layer + depth()); ++j) {
      if (fetch_[j] != kNoOp) continue;
      const int frees = j - depth() - 1;
      fetch_[j] = g.copy(Unit::H2D, 0, "fetch KV", j, tokens * c.kv_bytes_per_token_layer(),
                         {frees >= 0 ? attn_[frees] : kNoOp});
    }
    attn_[layer] = gpu_kernel(g, KernelKind::Attention, "attention", layer, a, {fetch_[layer]});
    g.copy(Unit::D2H, 1, "new KV to host", layer, step.contexts.size() * c.kv_bytes_per_token_layer(), {q_ready});
    return attn_[layer];
  }

  PrefillKv prefill_kv() const override { return {true, false}; }
  int64_t prefill_gpu_resident(int64_t) const override { return 0; }

 private:
  mutable std::vector<OpId> fetch_, attn_;  // per-step scratch
};
}  // namespace

std::unique_ptr<Strategy> make_offload_fetch(const StrategyContext& ctx) { return std::make_unique<OffloadFetch>(ctx); }

}  // namespace hgca
