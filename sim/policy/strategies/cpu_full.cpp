// cpu-full (FastDecode/NEO-like): all KV in CPU memory and all attention on the CPU cores. Per layer the
// new token's Q, K, V go to the host, the cores attend densely over the whole context, and the output comes
// back. Bound by CPU memory bandwidth.
#include "sim/policy/cpu_attention_tasks.hpp"
#include "sim/policy/strategies/strategies.hpp"

namespace hgca {

namespace {
class CpuFull final : public Strategy {
 public:
  using Strategy::Strategy;
  const char* name() const override { return "cpu-full"; }

  MemoryPlan plan_memory(const std::vector<int64_t>& prompts, const std::vector<int64_t>& finals) const override {
    const ModelCosts& c = ctx_.costs;
    MemoryPlan p = base_memory(prompts);
    double tokens = 0, prompt_tokens = 0;
    for (int64_t t : finals) tokens += t;
    for (int64_t t : prompts) prompt_tokens += t;
    const double batch = static_cast<double>(finals.size());
    p.cpu.kv = tokens * c.kv_bytes_per_token_layer() * c.shape().layers;
    const double exchange = c.query_bytes(batch) + batch * c.kv_bytes_per_token_layer() + c.query_bytes(batch);
    const double prefill_fetch =
        ctx_.exp.workload.simulate_prefill ? 2.0 * prompt_tokens * c.kv_bytes_per_token_layer() : 0;
    p.gpu.staging = std::max(exchange, prefill_fetch);
    p.cpu.staging = exchange;
    return p;
  }

 protected:
  OpId decode_attention(int layer, const DecodeStep& step, StepGraph& g, OpId q_ready) const override {
    const ModelCosts& c = ctx_.costs;
    const double batch = static_cast<double>(step.contexts.size());
    const OpId up = g.copy(Unit::D2H, 0, "q,k,v to host", layer,
                           c.query_bytes(batch) + batch * c.kv_bytes_per_token_layer(), {q_ready});
    const OpId dense = g.cpu_batch(0, "dense-attn", layer, {up});
    add_dense_attention_tasks(g, ctx_, step.contexts);
    return g.copy(Unit::H2D, 0, "output to GPU", layer, c.query_bytes(batch), {dense});
  }
  PrefillKv prefill_kv() const override { return {true, false}; }
  int64_t prefill_gpu_resident(int64_t) const override { return 0; }
};
}  // namespace

std::unique_ptr<Strategy> make_cpu_full(const StrategyContext& ctx) { return std::make_unique<CpuFull>(ctx); }

}  // namespace hgca
