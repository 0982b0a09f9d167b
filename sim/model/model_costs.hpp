// What each per-layer operation of a transformer costs in FLOPs and bytes, for a given model shape.
// Activations are 16-bit; weights and KV use the model's dtypes. Attention FLOPs count QK^T and PV
// (2 multiply-adds per element each). Nothing here knows about hardware or time.
#pragma once

#include "sim/config/experiment.hpp"

namespace hgca {

struct Cost {
  double flops = 0;
  double bytes = 0;
};

class ModelCosts {
 public:
  explicit ModelCosts(const ModelShape& m);
  const ModelShape& shape() const { return m_; }

  // ---- sizes
  double layer_weight_bytes() const;   // attention + MLP + norms of one layer
  double embedding_bytes() const;      // token embeddings
  double lm_head_bytes() const;        // 0 when tied to the embeddings
  double total_weight_bytes() const;
  double kv_bytes_per_token_layer() const { return 2.0 * m_.kv_heads * m_.head_dim * m_.kv_bytes_per_elem; }
  double kv_bytes_per_token_head() const { return 2.0 * m_.head_dim * m_.kv_bytes_per_elem; }  // K + V, one KV head
  double key_bytes_per_token_head() const { return m_.head_dim * m_.kv_bytes_per_elem; }
  int group_size() const { return m_.q_heads / m_.kv_heads; }
  double query_bytes(double seqs) const { return seqs * m_.q_heads * m_.head_dim * 2.0; }  // 16-bit queries
  // Queries as the CPU attention kernels take them (fp32, kernels/cpu): what HGCA copies to the host. Measured
  // on the device, the hybrid runner's query copy at batch 64 took twice what 16-bit queries predicted.
  double cpu_query_bytes(double seqs) const { return seqs * m_.q_heads * m_.head_dim * 4.0; }
  // Partial attention result sent back to the GPU: fp32 output + fp32 LSE per query head.
  double partial_bytes(double seqs) const { return seqs * m_.q_heads * (m_.head_dim + 1) * 4.0; }
  // Workspace of one forward pass over `tokens` tokens (hidden states, QKV, MLP intermediate, logits).
  double activation_bytes(double tokens, double logits_tokens) const;

  // ---- per-layer kernels over `tokens` tokens (a decode step has one token per sequence)
  Cost norm(double tokens) const;
  Cost qkv(double tokens) const;
  Cost rope_append(double tokens) const;  // rotary embedding + writing K, V into the cache
  Cost o_proj(double tokens) const;
  Cost mlp_up(double tokens) const;       // gate and up projections (fused), or the single up projection
  Cost mlp_down(double tokens) const;     // activation fused in
  Cost lm_head(double tokens) const;      // final norm is charged separately with norm()
  // Dense attention of `queries` query tokens of one sequence over `keys` keys of that sequence, all heads.
  // For causal prefill pass the mean number of keys a query sees.
  Cost attention(double queries, double keys) const;
  Cost merge(double seqs) const;  // log-sum-exp merge of two partial states per (sequence, query head)

 private:
  Cost gemm(double tokens, double in, double out) const;
  ModelShape m_;
};

}  // namespace hgca
