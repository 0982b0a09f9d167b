#include "kernels/hybrid/hybrid_config.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace hgca::kernels::hybrid {

const char* selection_name(Selection s) { return s == Selection::random ? "random" : "topk"; }

std::int64_t HybridConfig::selected_per_head() const {
  const std::int64_t pool = pool_rows();
  if (cpu_select >= 0) return std::min(cpu_select, pool);
  return std::clamp<std::int64_t>(std::llround(cpu_fraction * static_cast<double>(pool)), 0, pool);
}

Status validate(const HybridConfig& c) {
  auto bad = [](const std::string& m) { return Status::invalid(m); };
  if (c.batch <= 0) return bad("--batch must be positive");
  if (c.q_heads <= 0 || c.kv_heads <= 0 || c.q_heads % c.kv_heads != 0)
    return bad("--q-heads must be a positive multiple of --kv-heads");
  if (c.head_dim <= 0) return bad("--head-dim must be positive");
  if (c.context <= 0) return bad("--context must be positive");
  if (c.window <= 0) return bad("--window must be positive");
  if (c.sinks < 0 || c.sinks >= c.window) return bad("--sinks must lie in [0, --window)");
  if (c.type != KvType::f16 && c.type != KvType::bf16) return bad("--dtype must be fp16 or bf16");
  if (!(c.cpu_fraction >= 0.0 && c.cpu_fraction <= 1.0)) return bad("--cpu-fraction must lie in [0, 1]");
  if (c.pool_rows() > 0x7FFFFFFF) return bad("--context minus --window must fit 32-bit token indices");
  if (c.threads < 0) return bad("--threads must be >= 0");
  if (c.worker_spin_us < 0 || c.worker_spin_us > 1000000) return bad("--worker-spin-us must lie in [0, 1000000]");
  if (c.pool_copies < 1 || c.pool_copies > kMaxPoolCopies)
    return bad("pool_copies must lie in [1, " + std::to_string(kMaxPoolCopies) + "]");
  cuda::DecodePlan plan;
  const Status s =
      cuda::plan_decode_attention({c.type, c.batch, c.kv_heads, c.head_dim, c.window}, c.q_heads, c.gpu, 132, &plan);
  if (!s.ok()) return Status{s.code, "GPU window attention: " + s.message};
  return Status::success();
}

double pool_bytes(const HybridConfig& c) {
  return static_cast<double>(c.pool_rows()) * c.batch * c.kv_heads * c.head_dim * static_cast<double>(kv_element_bytes(c.type)) * 2.0;
}

int layer_pool_copies(int layers, double bytes, double ring_bytes) {
  if (layers <= 1 || !(bytes > 0)) return 1;
  const double fit = std::floor(ring_bytes / bytes);
  return static_cast<int>(std::clamp(fit, 1.0, static_cast<double>(std::min(layers, kMaxPoolCopies))));
}

}  // namespace hgca::kernels::hybrid
