// infinigen as the HGCA authors ran it (InfiniGen on FlexGen): all KV in CPU memory, and per layer only a
// speculated top-k (`infinigen.budget` of the context) is fetched to the GPU. The speculation for layer l + 1
// runs during layer l on the GPU: a partial query projection (`partial_ratio` of the query columns) and
// partial key scores against partial keys kept on the GPU for every token; the indices go to the host, the
// CPU gathers those rows into a pinned buffer and they cross PCIe while layer l finishes (one layer ahead).
// Layer 0 speculates for itself. The new token's K, V are written back.
#include <algorithm>
#include <cmath>

#include "sim/policy/cpu_attention_tasks.hpp"
#include "sim/policy/strategies/strategies.hpp"

namespace hgca {

namespace {
class InfiniGen final : public Strategy {
 public:
  using Strategy::Strategy;
  const char* name() const override { return "infinigen"; }

  MemoryPlan plan_memory(const std::vector<int64_t>& prompts, const std::vector<int64_t>& finals) const override {
    const ModelCosts& c = ctx_.costs;
    const int layers = c.shape().layers;
    MemoryPlan p = base_memory(prompts);
    double tokens = 0, rows = 0;
    for (int64_t t : finals) {
      tokens += static_cast<double>(t);
      rows += selected(t);
    }
    const double kv_layer = c.kv_bytes_per_token_layer();
    p.cpu.kv = tokens * kv_layer * layers;
    p.gpu.metadata = tokens * partial_key_bytes() * layers;  // partial keys of every token
    // Partial query weights of every layer, and two layers' fetched rows (prefetch one ahead).
    p.gpu.weights += ratio() * c.shape().hidden * c.shape().q_heads * c.shape().head_dim * c.shape().weight_bytes_per_param * layers;
    p.gpu.staging = 2.0 * rows * kv_layer + finals.size() * kv_layer;
    p.cpu.staging = 2.0 * rows * kv_layer;
    return p;
  }

 protected:
  double ratio() const { return ctx_.exp.system.infinigen.partial_ratio; }
  double selected(int64_t context) const {
    return std::ceil(ctx_.exp.system.infinigen.budget * static_cast<double>(context - 1));
  }
  double partial_key_bytes() const {
    const ModelShape& m = ctx_.costs.shape();
    return ratio() * m.kv_heads * m.head_dim * m.kv_bytes_per_elem;
  }

  // Speculation for `target` issued during layer `layer`; returns the fetch of the selected rows.
  OpId speculate(int layer, int target, const DecodeStep& step, StepGraph& g, OpId q_ready) const {
    const ModelCosts& c = ctx_.costs;
    const ModelShape& m = c.shape();
    const double batch = static_cast<double>(step.contexts.size());
    double keys = 0;
    rows_.clear();
    for (int64_t ctx : step.contexts) {
      keys += static_cast<double>(ctx - 1);
      rows_.push_back(selected(ctx));
    }
    const double q_cols = ratio() * m.q_heads * m.head_dim;
    const OpId pq = gpu_kernel(g, KernelKind::Gemm, "partial q-proj", layer,
                               Cost{2.0 * batch * m.hidden * q_cols,
                                    m.hidden * q_cols * m.weight_bytes_per_param + batch * (m.hidden + q_cols) * 2.0},
                               {q_ready}, 1);
    const OpId sc = gpu_kernel(g, KernelKind::Selection, "partial scores+top-k", layer,
                               Cost{2.0 * keys * q_cols + keys * m.q_heads, keys * partial_key_bytes()}, {pq}, 1);
    double idx = 0;
    for (double r : rows_) idx += r * m.kv_heads * 4.0;
    const OpId down = g.copy(Unit::D2H, 0, "indices to host", target, idx, {sc});
    const OpId gather = g.cpu_batch(0, "gather rows", target, {down});
    const double bytes = add_row_gather_tasks(g, ctx_, rows_);
    return g.copy(Unit::H2D, 0, "fetch selected KV", target, bytes, {gather});
  }

  OpId decode_attention(int layer, const DecodeStep& step, StepGraph& g, OpId q_ready) const override {
    const ModelCosts& c = ctx_.costs;
    const int layers = c.shape().layers;
    if (layer == 0) {
      fetch_.assign(layers, kNoOp);
      fetch_[0] = speculate(0, 0, step, g, q_ready);
    }
    if (layer + 1 < layers) fetch_[layer + 1] = speculate(layer, layer + 1, step, g, q_ready);
    Cost a{};
    for (int64_t ctx : step.contexts) {
      const Cost x = c.attention(1, selected(ctx) + 1);
      a.flops += x.flops;
      a.bytes += x.bytes;
    }
    g.copy(Unit::D2H, 1, "new KV to host", layer, step.contexts.size() * c.kv_bytes_per_token_layer(), {q_ready});
    return gpu_kernel(g, KernelKind::Attention, "attention (selected)", layer, a, {fetch_[layer]});
  }

  PrefillKv prefill_kv() const override { return {true, false}; }
  int64_t prefill_gpu_resident(int64_t) const override { return 0; }

 private:
  mutable std::vector<OpId> fetch_;
  mutable std::vector<double> rows_;
};
}  // namespace

std::unique_ptr<Strategy> make_infinigen(const StrategyContext& ctx) { return std::make_unique<InfiniGen>(ctx); }

}  // namespace hgca
