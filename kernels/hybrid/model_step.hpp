// One whole decode step of a Llama-shaped model on real kernels, for validating the simulator's decode step
// (hgca validate): random fp16 weights on the GPU, per layer the operations the simulator charges
// (sim/model/model_costs.cpp, sim/policy/strategy.cpp) in the same order,
//
//   input RMSNorm -> QKV GEMM -> RoPE + KV append -> HGCA attention (HybridStep) -> O GEMM
//   -> post RMSNorm -> gate/up GEMM (one matrix, 2 x intermediate) -> down GEMM
//
// then the final RMSNorm and the LM head. GEMMs are cuBLAS (fp16 in and out, fp32 accumulation). As in the
// simulator the SwiGLU activation is taken as fused into the down projection: the down GEMM reads the gate
// half of the gate/up output directly (the values are random anyway). One HybridStep (one GPU window) serves
// every layer; its CPU lists are redrawn on every call and successive layers read distinct copies of its CPU
// pool (layer_pool_copies: one per layer up to pool_ring_bytes in all), so that a layer finds in the CPU's
// last-level cache only what the layers' combined pools leave there, as with a pool per layer. (With one
// shared pool, device run 13's small pools were served from the cache for every layer: CPU phases 20-50 %
// below the simulator's.)
//
// Timing: the host clock around the step, minus the time HybridStep spends drawing its random lists (they
// are drawn before its timed region, and the GPU is idle then: the layer's first kernels have completed).
// Everything else -- kernel launches, the host waiting for the QKV projection before handing the queries
// to the attention step, the attention step, the GEMMs -- is in the figure.
#pragma once

#include <memory>

#include "kernels/hybrid/hybrid_step.hpp"

namespace hgca::kernels::hybrid {

struct ModelStepConfig {
  int layers = 32;
  int hidden = 4096;          // must equal attention.q_heads x attention.head_dim
  int intermediate = 14336;
  int vocab = 128256;
  // Batch, heads, context, window, CPU budget, threads (fp16 KV). Its pool_copies is not used: the step sets
  // it from the layers and pool_ring_bytes (layer_pool_copies).
  HybridConfig attention;
  double pool_ring_bytes = kLayerPoolRingBytes;  // host memory the layers' pool copies may take (0: one shared pool)
};

// Every constraint at once, naming the field.
Status validate(const ModelStepConfig& c);

struct ModelStepTimes {
  double total_ms = 0;    // the whole step (see the header comment)
  PhaseTimes attention;   // the attention steps' phase times summed over the layers
};

class ModelStep {
 public:
  // Allocates and fills the weights (about 16 GB for Llama-3.1-8B), the activations and the attention step.
  // Throws std::invalid_argument for a bad configuration and cuda::CudaError when the GPU refuses.
  explicit ModelStep(const ModelStepConfig& config);
  ~ModelStep();
  ModelStep(const ModelStep&) = delete;
  ModelStep& operator=(const ModelStep&) = delete;

  const ModelStepConfig& config() const;
  ModelStepTimes run();
  int cpu_threads() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hgca::kernels::hybrid
