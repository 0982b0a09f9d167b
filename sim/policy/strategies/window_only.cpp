// window-only (StreamingLLM-like): attention sinks plus the recent window on the GPU; older KV is dropped.
// Cheapest of all, and lossy: the quality cost shows up in trace replay, not here.
#include "sim/policy/strategies/strategies.hpp"

#include <algorithm>

namespace hgca {

namespace {
class WindowOnly final : public Strategy {
 public:
  using Strategy::Strategy;
  const char* name() const override { return "window-only"; }
  int64_t reported_window() const override { return ctx_.exp.system.window; }

  MemoryPlan plan_memory(const std::vector<int64_t>& prompts, const std::vector<int64_t>& finals) const override {
    MemoryPlan p = base_memory(prompts);
    double tokens = 0;
    for (int64_t t : finals) tokens += kept(t);
    p.gpu.kv = tokens * ctx_.costs.kv_bytes_per_token_layer() * ctx_.costs.shape().layers;
    return p;
  }

 protected:
  int64_t kept(int64_t context) const {
    const SystemSpec& s = ctx_.exp.system;
    return std::min(context, s.sinks + s.window);
  }
  OpId decode_attention(int layer, const DecodeStep& step, StepGraph& g, OpId) const override {
    Cost a{};
    for (int64_t ctx : step.contexts) {
      const Cost c = ctx_.costs.attention(1, static_cast<double>(kept(ctx)));
      a.flops += c.flops;
      a.bytes += c.bytes;
    }
    return gpu_kernel(g, KernelKind::Attention, "window-attn", layer, a);
  }
  PrefillKv prefill_kv() const override { return {false, true}; }
  int64_t prefill_gpu_resident(int64_t prompt) const override { return kept(prompt); }
};
}  // namespace

std::unique_ptr<Strategy> make_window_only(const StrategyContext& ctx) { return std::make_unique<WindowOnly>(ctx); }

}  // namespace hgca
