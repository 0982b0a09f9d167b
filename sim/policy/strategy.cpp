#include "sim/policy/strategy.hpp"

#include <algorithm>

namespace hgca {

namespace {

// Weight placement: the share of each layer's weights that is not on the GPU crosses PCIe before the layer
// runs, on its own H2D stream. With overlap, a ring of two buffers: layer i + 1's weights are fetched while
// layer i computes, once layer i - 1 (the buffer's previous user) is done. Without overlap, one buffer: a
// layer's fetch starts when the previous layer is done, and the layer waits for it. Index `layers` is the
// LM head (the embedding matrix when tied).
class WeightStream {
 public:
  WeightStream(const ModelCosts& c, const SystemSpec& s) : layers_(c.shape().layers), overlap_(s.overlap_io) {
    const double off = 1.0 - s.weights_on_gpu;
    layer_bytes_ = off * c.layer_weight_bytes();
    head_bytes_ = off * (c.shape().tied_embeddings ? c.embedding_bytes() : c.lm_head_bytes());
    if (active()) {
      fetch_.assign(layers_ + 1, kNoOp);
      end_.assign(layers_ + 1, kNoOp);
    }
  }
  bool active() const { return layer_bytes_ > 0; }
  // Issues the fetches due at the start of layer i; returns the fetch layer i's first kernel waits for.
  OpId at_layer(StepGraph& g, int i) {
    if (!active()) return kNoOp;
    issue(g, i);
    if (overlap_) issue(g, i + 1);
    return fetch_[i];
  }
  void layer_done(int i, OpId last) {
    if (active()) end_[i] = last;
  }

 private:
  void issue(StepGraph& g, int j) {
    if (j > layers_ || fetch_[j] != kNoOp) return;
    const int frees = j - (overlap_ ? 2 : 1);  // the layer whose buffer this fetch reuses
    const double bytes = j < layers_ ? layer_bytes_ : head_bytes_;
    fetch_[j] = g.copy(Unit::H2D, kWeightStream, "weights", j < layers_ ? j : -1, bytes, {frees >= 0 ? end_[frees] : kNoOp});
  }
  static constexpr int kWeightStream = 3;
  int layers_;
  bool overlap_;
  double layer_bytes_ = 0, head_bytes_ = 0;
  std::vector<OpId> fetch_, end_;
};

}  // namespace

void Strategy::build_decode_step(const DecodeStep& step, StepGraph& g) const {
  const ModelCosts& c = ctx_.costs;
  const SystemSpec& sys = ctx_.exp.system;
  const double b = static_cast<double>(step.contexts.size());
  const double framework_step = ctx_.exp.hardware.host.framework_step_s;
  if (framework_step > 0) g.host("framework step", -1, framework_step);
  if (sys.attention_only) {  // kernel-level studies: each layer's attention alone
    for (int l = 0; l < c.shape().layers; ++l) decode_attention(l, step, g, kNoOp);
    return;
  }
  WeightStream weights(c, sys);
  for (int l = 0; l < c.shape().layers; ++l) {
    const OpId w = weights.at_layer(g, l);
    gpu_kernel(g, KernelKind::Elementwise, "input-norm", l, c.norm(b), {w});
    gpu_kernel(g, KernelKind::Gemm, "qkv-proj", l, c.qkv(b));
    const OpId q_ready = gpu_kernel(g, KernelKind::Elementwise, "rope+kv-append", l, c.rope_append(b));
    const OpId attn = decode_attention(l, step, g, q_ready);
    gpu_kernel(g, KernelKind::Gemm, "o-proj", l, c.o_proj(b), {attn});
    gpu_kernel(g, KernelKind::Elementwise, "post-norm", l, c.norm(b));
    gpu_kernel(g, KernelKind::Gemm, "mlp-up", l, c.mlp_up(b));
    weights.layer_done(l, gpu_kernel(g, KernelKind::Gemm, "mlp-down", l, c.mlp_down(b)));
  }
  const OpId w = weights.at_layer(g, c.shape().layers);
  gpu_kernel(g, KernelKind::Elementwise, "final-norm", -1, c.norm(b), {w});
  gpu_kernel(g, KernelKind::Gemm, "lm-head", -1, c.lm_head(b));
}

void Strategy::build_prefill_chunk(const PrefillChunk& chunk, StepGraph& g) const {
  const ModelCosts& c = ctx_.costs;
  const PrefillKv kv = prefill_kv();
  double tokens = 0, fetch_tokens = 0, offload_tokens = 0;
  Cost attn{};
  for (size_t i = 0; i < chunk.begin.size(); ++i) {
    const int64_t b = chunk.begin[i], e = chunk.end[i];
    const int64_t n = e - b;
    tokens += n;
    const int64_t keep = prefill_gpu_resident(chunk.prompt[i]);
    const int64_t cpu_boundary = chunk.prompt[i] - keep;  // tokens before this index end up off the GPU
    // Causal attention of n queries over the prefix and themselves: mean keys seen = b + (n + 1) / 2,
    // limited to what is kept when KV is dropped.
    double keys = b + (n + 1) / 2.0;
    if (kv.drop) keys = std::min<double>(keys, static_cast<double>(keep));
    const Cost a = c.attention(static_cast<double>(n), keys);
    attn.flops += a.flops;
    attn.bytes += a.bytes;
    if (kv.offload) {
      fetch_tokens += std::min(b, cpu_boundary);  // earlier chunks' offloaded KV comes back for attention
      offload_tokens += std::max<int64_t>(0, std::min(e, cpu_boundary) - b);
    }
  }
  const double kv_layer = c.kv_bytes_per_token_layer();
  const double framework_step = ctx_.exp.hardware.host.framework_step_s;
  if (framework_step > 0) g.host("framework step", -1, framework_step);
  WeightStream weights(c, ctx_.exp.system);
  OpId prev_attn = kNoOp;
  for (int l = 0; l < c.shape().layers; ++l) {
    const OpId w = weights.at_layer(g, l);
    // Fetch this layer's offloaded prefix on its own stream so it overlaps the previous layer's compute;
    // the buffer is reused, so it waits for the previous layer's attention.
    OpId fetch = kNoOp;
    if (fetch_tokens > 0) fetch = g.copy(Unit::H2D, 0, "prefix fetch", l, fetch_tokens * kv_layer, {prev_attn});
    gpu_kernel(g, KernelKind::Elementwise, "input-norm", l, c.norm(tokens), {w});
    gpu_kernel(g, KernelKind::Gemm, "qkv-proj", l, c.qkv(tokens));
    const OpId rope = gpu_kernel(g, KernelKind::Elementwise, "rope+kv-append", l, c.rope_append(tokens));
    const OpId a = gpu_kernel(g, KernelKind::Attention, "prefill-attn", l, attn, {fetch});
    prefill_layer_extra(l, chunk, g, a);
    if (offload_tokens > 0) g.copy(Unit::D2H, 1, "offload KV", l, offload_tokens * kv_layer, {rope});
    prev_attn = a;
    gpu_kernel(g, KernelKind::Gemm, "o-proj", l, c.o_proj(tokens));
    gpu_kernel(g, KernelKind::Elementwise, "post-norm", l, c.norm(tokens));
    gpu_kernel(g, KernelKind::Gemm, "mlp-up", l, c.mlp_up(tokens));
    weights.layer_done(l, gpu_kernel(g, KernelKind::Gemm, "mlp-down", l, c.mlp_down(tokens)));
  }
  if (chunk.last) {
    const double seqs = static_cast<double>(chunk.begin.size());
    const OpId w = weights.at_layer(g, c.shape().layers);
    gpu_kernel(g, KernelKind::Elementwise, "final-norm", -1, c.norm(seqs), {w});
    gpu_kernel(g, KernelKind::Gemm, "lm-head", -1, c.lm_head(seqs));
  }
}

MemoryPlan Strategy::base_memory(const std::vector<int64_t>& prompts) const {
  const ModelCosts& c = ctx_.costs;
  const WorkloadSpec& w = ctx_.exp.workload;
  const SystemSpec& sys = ctx_.exp.system;
  MemoryPlan p;
  // Weight placement: the GPU holds its share plus the streaming buffers (two with overlap, one without).
  const double off = 1.0 - sys.weights_on_gpu;
  const double largest_streamed =
      off * std::max(c.layer_weight_bytes(), c.shape().tied_embeddings ? c.embedding_bytes() : c.lm_head_bytes());
  p.gpu.weights = sys.weights_on_gpu * c.total_weight_bytes() + (sys.overlap_io ? 2.0 : 1.0) * largest_streamed;
  p.cpu.weights = off * c.total_weight_bytes();
  const double batch = static_cast<double>(prompts.size());
  double prefill_tokens = 0;
  for (int64_t pr : prompts) prefill_tokens += w.prefill_chunk > 0 ? std::min(pr, w.prefill_chunk) : pr;
  const double decode_tokens = ctx_.exp.system.activation_tokens > 0 ? ctx_.exp.system.activation_tokens : batch;
  const double prefill = w.simulate_prefill ? c.activation_bytes(prefill_tokens, batch) : 0.0;
  p.gpu.activations = std::max(prefill, c.activation_bytes(decode_tokens, batch));
  return p;
}

}  // namespace hgca
