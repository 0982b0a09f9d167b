// h2o (Heavy-Hitter Oracle) as the HGCA authors ran it: each sequence keeps a KV budget of `h2o.budget` of
// its context on the GPU, heavy hitters (largest accumulated attention) plus the most recent tokens; the rest
// is dropped, never fetched. Attention over the kept tokens writes its weights, which are accumulated per kept
// token, and the lowest-scoring heavy hitter is evicted as each token arrives. Lossy: the quality cost shows
// in trace replay, not here.
#include <algorithm>
#include <cmath>

#include "sim/policy/strategies/strategies.hpp"

namespace hgca {

namespace {
class H2o final : public Strategy {
 public:
  using Strategy::Strategy;
  const char* name() const override { return "h2o"; }

  MemoryPlan plan_memory(const std::vector<int64_t>& prompts, const std::vector<int64_t>& finals) const override {
    const ModelCosts& c = ctx_.costs;
    MemoryPlan p = base_memory(prompts);
    double tokens = 0, longest_prompt = 0;
    for (int64_t t : finals) tokens += static_cast<double>(kept(t));
    for (int64_t t : prompts) longest_prompt += static_cast<double>(t);
    p.gpu.kv = tokens * c.kv_bytes_per_token_layer() * c.shape().layers;
    p.gpu.metadata = tokens * c.shape().q_heads * kScoreBytes * c.shape().layers;  // accumulated scores
    // Prefill attends over the whole prompt before dropping: one layer's full KV at a time.
    if (ctx_.exp.workload.simulate_prefill) p.gpu.staging = longest_prompt * c.kv_bytes_per_token_layer();
    return p;
  }

 protected:
  static constexpr double kScoreBytes = 4;  // fp32 accumulated attention per (token, head)
  int64_t kept(int64_t context) const {
    return std::min<int64_t>(context, static_cast<int64_t>(std::ceil(ctx_.exp.system.h2o.budget * context)));
  }
  OpId decode_attention(int layer, const DecodeStep& step, StepGraph& g, OpId) const override {
    const ModelCosts& c = ctx_.costs;
    const double heads = c.shape().q_heads;
    Cost a{};
    double tokens = 0;
    for (int64_t ctx : step.contexts) {
      const double n = static_cast<double>(kept(ctx));
      const Cost x = c.attention(1, n);
      a.flops += x.flops;
      a.bytes += x.bytes + n * heads * 2.0;  // fp16 weights written for the accumulation
      tokens += n;
    }
    const OpId attn = gpu_kernel(g, KernelKind::Attention, "attention+weights", layer, a);
    // acc += a (read weights, read and write acc), then the heavy-hitter minimum over acc.
    gpu_kernel(g, KernelKind::Elementwise, "accumulate+evict", layer,
               Cost{3.0 * tokens * heads, tokens * heads * (2.0 + 3.0 * kScoreBytes)});
    return attn;
  }
  PrefillKv prefill_kv() const override { return {false, false}; }
  int64_t prefill_gpu_resident(int64_t prompt) const override { return kept(prompt); }
};
}  // namespace

std::unique_ptr<Strategy> make_h2o(const StrategyContext& ctx) { return std::make_unique<H2o>(ctx); }

}  // namespace hgca
