// A strategy turns one decode step (or one prefill chunk) into operations on the hardware: which KV lives
// where, what crosses PCIe, what runs on the CPU. All strategies share the transformer around attention
// (norms, projections, MLP, LM head, in that order on GPU stream 0); each supplies its attention and its
// memory footprint. Strategies know nothing of files or the command line.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/config/experiment.hpp"
#include "sim/hw/op_graph.hpp"
#include "sim/model/model_costs.hpp"
#include "sim/policy/selection.hpp"
#include "sim/results/run_result.hpp"

namespace hgca {

struct StrategyContext {
  const Experiment& exp;
  const ModelCosts& costs;
  const SelectionModel& selection;
};

// The active sequences of a decode step and their context length once this step's token is appended.
struct DecodeStep {
  int step = 0;
  std::vector<int64_t> contexts;
};

// One prefill chunk: for each sequence still prefilling, the token range [begin, end) it processes.
struct PrefillChunk {
  std::vector<int64_t> begin, end, prompt;  // per sequence in this chunk
  bool last = false;                        // the chunk that produces the first token
};

struct MemoryPlan {
  MemoryUse gpu;
  MemoryUse cpu;
};

class Strategy {
 public:
  explicit Strategy(const StrategyContext& ctx) : ctx_(ctx) {}
  virtual ~Strategy() = default;

  virtual const char* name() const = 0;
  // Peak memory over a run whose sequences reach the given contexts (prompt + decode each).
  virtual MemoryPlan plan_memory(const std::vector<int64_t>& prompts, const std::vector<int64_t>& final_contexts) const = 0;
  // GPU window reported with results (0 where the strategy has none).
  virtual int64_t reported_window() const { return 0; }

  void build_decode_step(const DecodeStep& step, StepGraph& g) const;
  void build_prefill_chunk(const PrefillChunk& chunk, StepGraph& g) const;

 protected:
  // Emits layer `layer`'s attention for a decode step. `q_ready`: the op after which the step's queries and
  // new K, V exist on the GPU. Returns the op after which the attention output is on the GPU.
  virtual OpId decode_attention(int layer, const DecodeStep& step, StepGraph& g, OpId q_ready) const = 0;

  // What prefill does with KV: how many entries of a sequence stay on the GPU at the end of the prompt, and
  // whether the rest goes to CPU memory (true) or is dropped (false). Offloaded entries of earlier chunks are
  // fetched back layer by layer for the attention of later chunks.
  struct PrefillKv {
    bool offload = false;
    bool drop = false;
  };
  virtual PrefillKv prefill_kv() const = 0;
  virtual int64_t prefill_gpu_resident(int64_t prompt) const = 0;
  // Work a strategy adds to a prefill layer after its attention (`attn`): scores, selection, bookkeeping.
  virtual void prefill_layer_extra(int /*layer*/, const PrefillChunk& /*chunk*/, StepGraph& /*g*/, OpId /*attn*/) const {}

  OpId gpu_kernel(StepGraph& g, KernelKind kind, const char* name, int layer, const Cost& c,
                  std::initializer_list<OpId> deps = {}, int stream = 0) const {
    return g.kernel(stream, kind, name, layer, c.flops, c.bytes, deps);
  }
  // Memory every strategy needs: weights (on the GPU, or partly in CPU memory with streaming buffers on the
  // GPU, per system.weights_on_gpu), activations of the largest pass.
  MemoryPlan base_memory(const std::vector<int64_t>& prompts) const;

  const StrategyContext& ctx_;
};

// Known strategy names, in the order results list them.
const std::vector<std::string>& strategy_names();
// Throws std::invalid_argument for an unknown name.
std::unique_ptr<Strategy> make_strategy(const StrategyContext& ctx);

}  // namespace hgca
