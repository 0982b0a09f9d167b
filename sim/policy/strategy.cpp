#include "sim/policy/strategy.hpp"

#include <algorithm>

namespace hgca {

void Strategy::build_decode_step(const DecodeStep& step, StepGraph& g) const {
  const ModelCosts& c = ctx_.costs;
  const double b = static_cast<double>(step.contexts.size());
  for (int l = 0; l < c.shape().layers; ++l) {
    gpu_kernel(g, KernelKind::Elementwise, "input-norm", l, c.norm(b));
    gpu_kernel(g, KernelKind::Gemm, "qkv-proj", l, c.qkv(b));
    const OpId q_ready = gpu_kernel(g, KernelKind::Elementwise, "rope+kv-append", l, c.rope_append(b));
    const OpId attn = decode_attention(l, step, g, q_ready);
    gpu_kernel(g, KernelKind::Gemm, "o-proj", l, c.o_proj(b), {attn});
    gpu_kernel(g, KernelKind::Elementwise, "post-norm", l, c.norm(b));
    gpu_kernel(g, KernelKind::Gemm, "mlp-up", l, c.mlp_up(b));
    gpu_kernel(g, KernelKind::Gemm, "mlp-down", l, c.mlp_down(b));
  }
  gpu_kernel(g, KernelKind::Elementwise, "final-norm", -1, c.norm(b));
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
  OpId prev_attn = kNoOp;
  for (int l = 0; l < c.shape().layers; ++l) {
    // Fetch this layer's offloaded prefix on its own stream so it overlaps the previous layer's compute;
    // the buffer is reused, so it waits for the previous layer's attention.
    OpId fetch = kNoOp;
    if (fetch_tokens > 0) fetch = g.copy(Unit::H2D, 0, "prefix fetch", l, fetch_tokens * kv_layer, {prev_attn});
    gpu_kernel(g, KernelKind::Elementwise, "input-norm", l, c.norm(tokens));
    gpu_kernel(g, KernelKind::Gemm, "qkv-proj", l, c.qkv(tokens));
    const OpId rope = gpu_kernel(g, KernelKind::Elementwise, "rope+kv-append", l, c.rope_append(tokens));
    const OpId a = gpu_kernel(g, KernelKind::Attention, "prefill-attn", l, attn, {fetch});
    if (offload_tokens > 0) g.copy(Unit::D2H, 1, "offload KV", l, offload_tokens * kv_layer, {rope});
    prev_attn = a;
    gpu_kernel(g, KernelKind::Gemm, "o-proj", l, c.o_proj(tokens));
    gpu_kernel(g, KernelKind::Elementwise, "post-norm", l, c.norm(tokens));
    gpu_kernel(g, KernelKind::Gemm, "mlp-up", l, c.mlp_up(tokens));
    gpu_kernel(g, KernelKind::Gemm, "mlp-down", l, c.mlp_down(tokens));
  }
  if (chunk.last) {
    const double seqs = static_cast<double>(chunk.begin.size());
    gpu_kernel(g, KernelKind::Elementwise, "final-norm", -1, c.norm(seqs));
    gpu_kernel(g, KernelKind::Gemm, "lm-head", -1, c.lm_head(seqs));
  }
}

MemoryPlan Strategy::base_memory(const std::vector<int64_t>& prompts) const {
  const ModelCosts& c = ctx_.costs;
  const WorkloadSpec& w = ctx_.exp.workload;
  MemoryPlan p;
  p.gpu.weights = c.total_weight_bytes();
  const double batch = static_cast<double>(prompts.size());
  double prefill_tokens = 0;
  for (int64_t pr : prompts) prefill_tokens += w.prefill_chunk > 0 ? std::min(pr, w.prefill_chunk) : pr;
  const double decode_tokens = ctx_.exp.system.activation_tokens > 0 ? ctx_.exp.system.activation_tokens : batch;
  const double prefill = w.simulate_prefill ? c.activation_bytes(prefill_tokens, batch) : 0.0;
  p.gpu.activations = std::max(prefill, c.activation_bytes(decode_tokens, batch));
  return p;
}

}  // namespace hgca
