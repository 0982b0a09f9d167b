#include "kernels/hybrid/model_step.hpp"

#include "kernels/cuda/cublas_loader.hpp"
#include <cuda_runtime.h>

#include <chrono>
#include <stdexcept>
#include <string>

#include "kernels/cuda/runtime.hpp"
#include "kernels/hybrid/model_step_kernels.hpp"

namespace hgca::kernels::hybrid {

namespace {

using Clock = std::chrono::steady_clock;
double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

void check_cublas(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS)
    throw cuda::CudaError(std::string("cublas: ") + what + ": " + cuda::cublas().status_string(s));
}
void check_status(const Status& s) {
  if (!s.ok()) throw cuda::CudaError(s.message);
}

ModelStepConfig checked(const ModelStepConfig& c) {
  if (const Status s = validate(c); !s.ok()) throw std::invalid_argument(s.message);
  return c;
}

// The attention step with one pool copy per layer, as far as pool_ring_bytes allows, and its pool read left
// to the end of the model step's own setup (the weights it fills would stream through the cache after it).
HybridConfig attention_config(const ModelStepConfig& c) {
  HybridConfig a = c.attention;
  a.pool_copies = layer_pool_copies(c.layers, pool_bytes(a), c.pool_ring_bytes);
  a.warm_pool = false;
  return a;
}

}  // namespace

Status validate(const ModelStepConfig& c) {
  if (c.layers <= 0) return Status::invalid("layers must be positive");
  if (c.intermediate <= 0 || c.vocab <= 0) return Status::invalid("intermediate and vocab must be positive");
  if (c.hidden != c.attention.q_heads * c.attention.head_dim)
    return Status::invalid("hidden (" + std::to_string(c.hidden) + ") must equal q_heads x head_dim (" +
                           std::to_string(c.attention.q_heads * c.attention.head_dim) + ")");
  if (c.attention.type != KvType::f16) return Status::invalid("the model step runs fp16 KV only");
  if (!(c.pool_ring_bytes >= 0)) return Status::invalid("pool_ring_bytes must be >= 0");
  HybridConfig a = c.attention;
  a.pool_copies = 1;  // set by the step, not the caller
  return validate(a);
}

struct ModelStep::Impl {
  ModelStepConfig c;
  HybridStep attention;
  cuda::Stream stream;
  cublasHandle_t blas = nullptr;
  int qkv_out, tokens;
  // Weights, one allocation: per layer [norm1 | qkv | o | norm2 | gate_up | down], then final norm, LM head.
  std::size_t layer_params = 0;
  cuda::DeviceBuffer weights;
  cuda::DeviceBuffer x, xn, qkv, kv_out, attn, o, gate_up, logits;

  explicit Impl(const ModelStepConfig& config)
      : c(checked(config)), attention(attention_config(config)),
        qkv_out((config.attention.q_heads + 2 * config.attention.kv_heads) * config.attention.head_dim),
        tokens(config.attention.batch) {
    const std::size_t h = static_cast<std::size_t>(c.hidden), inter = static_cast<std::size_t>(c.intermediate);
    layer_params = h + static_cast<std::size_t>(qkv_out) * h + h * h + h + 2 * inter * h + h * inter;
    const std::size_t total = static_cast<std::size_t>(c.layers) * layer_params + h + static_cast<std::size_t>(c.vocab) * h;
    weights = cuda::DeviceBuffer(total * 2);
    check_status(fill_uniform_f16(weights.data(), total, c.attention.seed, 0.02f, stream.get()));
    const std::size_t t = static_cast<std::size_t>(tokens);
    x = cuda::DeviceBuffer(t * h * 2);
    xn = cuda::DeviceBuffer(t * h * 2);
    qkv = cuda::DeviceBuffer(t * static_cast<std::size_t>(qkv_out) * 2);
    kv_out = cuda::DeviceBuffer(t * 2 * static_cast<std::size_t>(c.attention.kv_heads * c.attention.head_dim) * 2);
    attn = cuda::DeviceBuffer(t * h * 2);
    o = cuda::DeviceBuffer(t * h * 2);
    gate_up = cuda::DeviceBuffer(t * 2 * inter * 2);
    logits = cuda::DeviceBuffer(t * static_cast<std::size_t>(c.vocab) * 2);
    check_status(fill_uniform_f16(x.data(), t * h, c.attention.seed + 1, 1.0f, stream.get()));
    check_status(fill_uniform_f16(attn.data(), t * h, c.attention.seed + 2, 1.0f, stream.get()));
    check_cublas(cuda::cublas().create(&blas), "cublasCreate");
    check_cublas(cuda::cublas().set_stream(blas, stream.get()), "cublasSetStream");
    stream.synchronize();
    if (c.attention.warm_pool) attention.read_pool();  // last, as in HybridStep's own constructor
  }
  ~Impl() {
    if (blas) cuda::cublas().destroy(blas);
  }

  const void* w(int layer, std::size_t offset) const {
    return static_cast<const char*>(weights.data()) + 2 * (static_cast<std::size_t>(layer) * layer_params + offset);
  }

  // y [tokens x out] = x [tokens x in] (row stride ldx) times W^T, W stored [out x in] row-major.
  void gemm(const void* wt, const void* in, int ldx, void* out, int n_in, int n_out) {
    const float one = 1.0f, zero = 0.0f;
    check_cublas(cuda::cublas().gemm_ex(blas, CUBLAS_OP_T, CUBLAS_OP_N, n_out, tokens, n_in, &one, wt, CUDA_R_16F, n_in, in,
                              CUDA_R_16F, ldx, &zero, out, CUDA_R_16F, n_out, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                 "cublasGemmEx");
  }

  ModelStepTimes run() {
    const int h = c.hidden, inter = c.intermediate;
    const std::size_t hs = static_cast<std::size_t>(h), is = static_cast<std::size_t>(inter);
    const std::size_t off_qkv = hs, off_o = off_qkv + static_cast<std::size_t>(qkv_out) * hs, off_n2 = off_o + hs * hs,
                      off_gu = off_n2 + hs, off_down = off_gu + 2 * is * hs;
    const HybridConfig& a = c.attention;
    ModelStepTimes out;
    double untimed = 0;
    const auto t0 = Clock::now();
    for (int l = 0; l < c.layers; ++l) {
      check_status(rms_norm_f16(x.data(), w(l, 0), xn.data(), tokens, h, stream.get()));
      gemm(w(l, off_qkv), xn.data(), h, qkv.data(), h, qkv_out);
      check_status(rope_append_f16(qkv.data(), kv_out.data(), tokens, a.q_heads, a.kv_heads, a.head_dim, a.context - 1,
                                   stream.get()));
      // The attention step runs on its own streams: the queries must exist before it starts.
      stream.synchronize();
      const auto c0 = Clock::now();
      const PhaseTimes p = attention.run();
      untimed += ms_between(c0, Clock::now()) - p.total_ms;  // its untimed list draw (GPU idle meanwhile)
      out.attention.gpu_window_ms += p.gpu_window_ms;
      out.attention.d2h_query_ms += p.d2h_query_ms;
      out.attention.cpu_select_ms += p.cpu_select_ms;
      out.attention.cpu_attention_ms += p.cpu_attention_ms;
      out.attention.h2d_result_ms += p.h2d_result_ms;
      out.attention.merge_ms += p.merge_ms;
      out.attention.total_ms += p.total_ms;
      gemm(w(l, off_o), attn.data(), h, o.data(), h, h);
      check_status(rms_norm_f16(o.data(), w(l, off_n2), xn.data(), tokens, h, stream.get()));
      gemm(w(l, off_gu), xn.data(), h, gate_up.data(), h, 2 * inter);
      gemm(w(l, off_down), gate_up.data(), 2 * inter, x.data(), inter, h);  // reads the gate half (activation fused)
    }
    const std::size_t head = static_cast<std::size_t>(c.layers) * layer_params;
    check_status(rms_norm_f16(x.data(), static_cast<const char*>(weights.data()) + 2 * head, xn.data(), tokens, h,
                              stream.get()));
    gemm(static_cast<const char*>(weights.data()) + 2 * (head + hs), xn.data(), h, logits.data(), h, c.vocab);
    stream.synchronize();
    out.total_ms = ms_between(t0, Clock::now()) - untimed;
    return out;
  }
};

ModelStep::ModelStep(const ModelStepConfig& config) : impl_(std::make_unique<Impl>(config)) {}
ModelStep::~ModelStep() = default;
const ModelStepConfig& ModelStep::config() const { return impl_->c; }
ModelStepTimes ModelStep::run() { return impl_->run(); }
int ModelStep::cpu_threads() const { return impl_->attention.cpu_threads(); }

}  // namespace hgca::kernels::hybrid
