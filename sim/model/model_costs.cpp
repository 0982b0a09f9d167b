#include "sim/model/model_costs.hpp"

namespace hgca {

namespace {
constexpr double kActBytes = 2.0;  // 16-bit activations
}

ModelCosts::ModelCosts(const ModelShape& m) : m_(m) {}

double ModelCosts::layer_weight_bytes() const {
  const double h = m_.hidden, d = m_.head_dim;
  const double attn = h * d * (m_.q_heads + 2.0 * m_.kv_heads) + m_.q_heads * d * h;
  const double mlp = (m_.gated_mlp ? 3.0 : 2.0) * h * m_.intermediate;
  const double norms = 2.0 * h;
  return (attn + mlp + norms) * m_.weight_bytes_per_param;
}
double ModelCosts::embedding_bytes() const { return 1.0 * m_.vocab * m_.hidden * m_.weight_bytes_per_param; }
double ModelCosts::lm_head_bytes() const { return m_.tied_embeddings ? 0.0 : embedding_bytes(); }
double ModelCosts::total_weight_bytes() const {
  return m_.layers * layer_weight_bytes() + embedding_bytes() + lm_head_bytes() +
         m_.hidden * m_.weight_bytes_per_param;
}

double ModelCosts::activation_bytes(double tokens, double logits_tokens) const {
  const double per_token = (4.0 * m_.hidden + (m_.q_heads + 2.0 * m_.kv_heads) * m_.head_dim +
                            2.0 * m_.intermediate) * kActBytes;
  return tokens * per_token + logits_tokens * m_.vocab * 4.0;
}

Cost ModelCosts::gemm(double tokens, double in, double out) const {
  return {2.0 * tokens * in * out, in * out * m_.weight_bytes_per_param + tokens * (in + out) * kActBytes};
}

Cost ModelCosts::norm(double tokens) const {
  return {4.0 * tokens * m_.hidden, 2.0 * tokens * m_.hidden * kActBytes + m_.hidden * m_.weight_bytes_per_param};
}
Cost ModelCosts::qkv(double tokens) const {
  return gemm(tokens, m_.hidden, (m_.q_heads + 2.0 * m_.kv_heads) * m_.head_dim);
}
Cost ModelCosts::rope_append(double tokens) const {
  const double qk = (m_.q_heads + m_.kv_heads) * m_.head_dim;
  return {6.0 * tokens * qk, tokens * (2.0 * qk * kActBytes + kv_bytes_per_token_layer())};
}
Cost ModelCosts::o_proj(double tokens) const { return gemm(tokens, 1.0 * m_.q_heads * m_.head_dim, m_.hidden); }
Cost ModelCosts::mlp_up(double tokens) const {
  return gemm(tokens, m_.hidden, (m_.gated_mlp ? 2.0 : 1.0) * m_.intermediate);
}
Cost ModelCosts::mlp_down(double tokens) const { return gemm(tokens, m_.intermediate, m_.hidden); }
Cost ModelCosts::lm_head(double tokens) const { return gemm(tokens, m_.hidden, m_.vocab); }

Cost ModelCosts::attention(double queries, double keys) const {
  const double flops = 4.0 * queries * keys * m_.q_heads * m_.head_dim;
  const double bytes = keys * kv_bytes_per_token_layer() + 2.0 * queries * m_.q_heads * m_.head_dim * kActBytes;
  return {flops, bytes};
}

Cost ModelCosts::merge(double seqs) const {
  const double n = seqs * m_.q_heads;
  return {n * (4.0 * m_.head_dim + 8.0), n * ((m_.head_dim + 1) * 4.0 * 2 + m_.head_dim * kActBytes)};
}

}  // namespace hgca
