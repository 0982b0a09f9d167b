// gpu-full: every KV entry on the GPU, dense attention there. The reference point: fastest while it fits,
// infeasible once the KV cache outgrows GPU memory.
#include "sim/policy/strategies/strategies.hpp"

namespace hgca {

namespace {
class GpuFull final : public Strategy {
 public:
  using Strategy::Strategy;
  const char* name() const override { return "gpu-full"; }

  MemoryPlan plan_memory(const std::vector<int64_t>& prompts, const std::vector<int64_t>& finals) const override {
    MemoryPlan p = base_memory(prompts);
    double tokens = 0;
    for (int64_t t : finals) tokens += t;
    p.gpu.kv = tokens * ctx_.costs.kv_bytes_per_token_layer() * ctx_.costs.shape().layers;
    return p;
  }

 protected:
  OpId decode_attention(int layer, const DecodeStep& step, StepGraph& g, OpId) const override {
    Cost a{};
    for (int64_t ctx : step.contexts) {
      const Cost c = ctx_.costs.attention(1, static_cast<double>(ctx));
      a.flops += c.flops;
      a.bytes += c.bytes;
    }
    return gpu_kernel(g, KernelKind::Attention, "attention", layer, a);
  }
  PrefillKv prefill_kv() const override { return {}; }
  int64_t prefill_gpu_resident(int64_t prompt) const override { return prompt; }
};
}  // namespace

std::unique_ptr<Strategy> make_gpu_full(const StrategyContext& ctx) { return std::make_unique<GpuFull>(ctx); }

}  // namespace hgca
