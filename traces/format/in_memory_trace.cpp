// InMemoryTrace: a trace held in vectors (tests, synthesis, small captures). Same contract as a file.
#include <cmath>
#include <string>

#include "traces/format/trace.hpp"

namespace hgca::traces {

namespace {

void check_layer(const TraceMeta& m, int layer, const char* what) {
  if (layer < 0 || layer >= m.num_layers)
    throw TraceError(std::string(what) + ": layer " + std::to_string(layer) + " out of range [0, " +
                     std::to_string(m.num_layers) + ")");
}

void check_head(int head, int count, const char* what) {
  if (head < 0 || head >= count)
    throw TraceError(std::string(what) + ": head " + std::to_string(head) + " out of range [0, " +
                     std::to_string(count) + ")");
}

void check_block(const std::vector<std::vector<std::vector<float>>>& data, const TraceMeta& m, int heads,
                 int64_t rows, const std::string& name, const std::string& what) {
  const size_t want = static_cast<size_t>(rows) * static_cast<size_t>(m.head_dim);
  if (data.size() != static_cast<size_t>(m.num_layers))
    throw TraceError(what + ": " + name + " has " + std::to_string(data.size()) + " layers, expected " +
                     std::to_string(m.num_layers));
  for (int l = 0; l < m.num_layers; ++l) {
    if (data[l].size() != static_cast<size_t>(heads))
      throw TraceError(what + ": " + name + "[" + std::to_string(l) + "] has " + std::to_string(data[l].size()) +
                       " heads, expected " + std::to_string(heads));
    for (int h = 0; h < heads; ++h) {
      const auto& block = data[l][h];
      const std::string where = name + "[" + std::to_string(l) + "][" + std::to_string(h) + "]";
      if (block.size() != want)
        throw TraceError(what + ": " + where + " has " + std::to_string(block.size()) + " values, expected " +
                         std::to_string(want) + " (" + std::to_string(rows) + " x head_dim " +
                         std::to_string(m.head_dim) + ")");
      for (size_t i = 0; i < block.size(); ++i)
        if (!std::isfinite(block[i]))
          throw TraceError(what + ": " + where + " holds a non-finite value at index " + std::to_string(i));
    }
  }
}

}  // namespace

void InMemoryTrace::keys(int layer, int kv_head, std::vector<float>& out) const {
  check_layer(m, layer, "keys");
  check_head(kv_head, m.num_kv_heads, "keys");
  out = k.at(layer).at(kv_head);
}

void InMemoryTrace::values(int layer, int kv_head, std::vector<float>& out) const {
  check_layer(m, layer, "values");
  check_head(kv_head, m.num_kv_heads, "values");
  out = v.at(layer).at(kv_head);
}

void InMemoryTrace::queries(int layer, int q_head, std::vector<float>& out) const {
  check_layer(m, layer, "queries");
  check_head(q_head, m.num_q_heads, "queries");
  out = q.at(layer).at(q_head);
}

void InMemoryTrace::outputs(int layer, int q_head, std::vector<float>& out) const {
  if (!m.has_outputs) throw TraceError("outputs: this trace stores no attention outputs");
  check_layer(m, layer, "outputs");
  check_head(q_head, m.num_q_heads, "outputs");
  out = o.at(layer).at(q_head);
}

void TraceSource::prompt_queries(int, int, std::vector<float>&) const {
  throw TraceError("prompt queries: this trace stores none (capture with --prompt-queries)");
}

void InMemoryTrace::prompt_queries(int layer, int q_head, std::vector<float>& out) const {
  if (!m.has_prompt_queries()) TraceSource::prompt_queries(layer, q_head, out);
  check_layer(m, layer, "prompt queries");
  check_head(q_head, m.num_q_heads, "prompt queries");
  out = pq.at(layer).at(q_head);
}

void validate_meta(const TraceMeta& m, const std::string& what) {
  if (m.num_layers <= 0 || m.num_q_heads <= 0 || m.num_kv_heads <= 0 || m.head_dim <= 0)
    throw TraceError(what + ": layers, query heads, KV heads and head_dim must all be positive");
  if (m.num_q_heads % m.num_kv_heads != 0)
    throw TraceError(what + ": query heads (" + std::to_string(m.num_q_heads) + ") must be a multiple of KV heads (" +
                     std::to_string(m.num_kv_heads) + ")");
  if (m.prompt_length < 0 || m.decode_steps <= 0)
    throw TraceError(what + ": prompt_length must be >= 0 and decode_steps > 0");
  if (!(m.softmax_scale > 0) || !std::isfinite(m.softmax_scale))
    throw TraceError(what + ": softmax_scale must be a positive finite number");
  if (!(m.rope_theta >= 0) || !std::isfinite(m.rope_theta))
    throw TraceError(what + ": rope_theta must be a finite number >= 0 (0: no rotary embedding)");
  if (!m.tokens.empty() && static_cast<int64_t>(m.tokens.size()) != m.num_positions())
    throw TraceError(what + ": " + std::to_string(m.tokens.size()) + " tokens, expected " +
                     std::to_string(m.num_positions()) + " (prompt_length + decode_steps)");
  for (size_t i = 0; i < m.prompt_query_positions.size(); ++i) {
    const int64_t p = m.prompt_query_positions[i];
    if (p < 0 || p >= m.prompt_length || (i > 0 && p <= m.prompt_query_positions[i - 1]))
      throw TraceError(what + ": prompt query position " + std::to_string(p) + " (index " + std::to_string(i) +
                       ") must lie in [0, prompt_length " + std::to_string(m.prompt_length) +
                       ") and the positions must be strictly ascending");
  }
}

bool is_storage_dtype(const std::string& name) {
  return name == "float16" || name == "bfloat16" || name == "float32";
}

void InMemoryTrace::validate(const std::string& what) const {
  validate_meta(m, what);
  check_block(k, m, m.num_kv_heads, m.num_positions(), "keys", what);
  check_block(v, m, m.num_kv_heads, m.num_positions(), "values", what);
  check_block(q, m, m.num_q_heads, m.decode_steps, "queries", what);
  if (m.has_outputs) check_block(o, m, m.num_q_heads, m.decode_steps, "outputs", what);
  if (m.has_prompt_queries()) check_block(pq, m, m.num_q_heads, m.num_prompt_queries(), "prompt queries", what);
}

}  // namespace hgca::traces
