// hgca with preset paper in the simulator: sparse sets grow eviction by eviction as the paper's rule dictates,
// evictions move KV and scores to the host and run a selection task, and the memory plan holds all of it.
#include <gtest/gtest.h>

#include <string>

#include "sim/model/model_costs.hpp"
#include "sim/policy/strategy.hpp"
#include "sim/runner/simulate.hpp"
#include "tests/support/fixtures.hpp"

namespace hgca {
namespace {

// tiny model: 8 query heads, 2 KV heads, head dim 128, 16-bit KV (512 B of K + V per token and head).
Experiment paper_experiment(int batch, int64_t prompt, int64_t decode) {
  Experiment e = test::simple_experiment("hgca", batch, prompt, decode);
  e.system.preset = HgcaPreset::Paper;
  e.system.paper.block_size = 64;
  e.system.paper.gpu_blocks = 4;  // capacity 256
  e.system.paper.recall_blocks = 0;
  e.system.paper.head_groups = 4;
  e.system.paper.keep_min = 10;
  e.system.selection.source = SelectionSource::Fraction;
  e.system.selection.fraction = 0.1;  // each head counts ceil(0.1 * 64) = 7 of a leaving block
  return e;
}

struct StepOps {
  double sparse_bytes = 0;  // read by the per-(sequence, head group) attention tasks
  int sparse_tasks = 0;
  double evict_kv_bytes = 0;
  int selection_tasks = 0;
};

StepOps build_step(const Experiment& e, const std::vector<int>& steps, int want) {
  const ModelCosts costs(e.model);
  const SelectionModel sel(e.system.selection, e.model, e.seed);
  const StrategyContext ctx{e, costs, sel};
  auto s = make_strategy(ctx);
  StepOps out;
  for (int k : steps) {  // the strategy follows each sequence step by step, as the runner drives it
    StepGraph g;
    DecodeStep step;
    step.step = k;
    step.contexts.assign(e.workload.batch, e.workload.prompt + k + 1);
    s->build_decode_step(step, g);
    if (k != want) continue;
    for (const Op& op : g.ops()) {
      const std::string name = op.name;
      if (op.unit == Unit::Cpu && name == "sparse-attn" && op.layer == 0)
        for (uint32_t t = op.task_begin; t < op.task_end; ++t) {
          out.sparse_bytes += g.tasks()[t].bytes;
          ++out.sparse_tasks;
        }
      if (op.unit == Unit::Cpu && name == "select on eviction" && op.layer == 0) out.selection_tasks += op.task_end - op.task_begin;
      if (op.unit == Unit::D2H && name == "evict KV" && op.layer == 0) out.evict_kv_bytes += op.bytes;
    }
  }
  return out;
}

TEST(PaperPreset, SparseSetsGrowByTheGroupRulePerEviction) {
  // Prompt 300 with capacity 256: floor((300 - 256) / 64 + 1) * 64 = 64 leave at once (window 236); each
  // head's count is 7 < keep_min, so every head keeps 10. The window then grows to 255 at context 319; the
  // token of context 320 (step 19) evicts the next block, whose selection adds 10 more per head.
  const Experiment e = paper_experiment(2, 300, 21);
  std::vector<int> steps;
  for (int k = 0; k <= 20; ++k) steps.push_back(k);
  const double row = 2 * 128 * 2;  // K + V of one token and head
  const StepOps first = build_step(e, steps, 0);
  EXPECT_EQ(first.sparse_tasks, 2 * 4);  // (sequence, head group)
  EXPECT_DOUBLE_EQ(first.sparse_bytes, 2 * 8 * 10 * row);
  EXPECT_EQ(first.selection_tasks, 0);
  const StepOps evicting = build_step(e, steps, 19);
  EXPECT_DOUBLE_EQ(evicting.sparse_bytes, 2 * 8 * 10 * row);  // attends with the sets before this eviction
  EXPECT_EQ(evicting.selection_tasks, 1);                      // one selection task per layer
  EXPECT_DOUBLE_EQ(evicting.evict_kv_bytes, 2 * 64 * 2 * 2 * 128 * 2.0);  // 2 sequences x 64 tokens x 2 KV heads
  const StepOps after = build_step(e, steps, 20);
  EXPECT_DOUBLE_EQ(after.sparse_bytes, 2 * 8 * 20 * row);
}

TEST(PaperPreset, PerKvHeadSetsAreReadOncePerKvHead) {
  Experiment e = paper_experiment(1, 300, 1);
  e.system.paper.selection = PaperSelectionScope::KvHead;
  e.system.paper.head_groups = 2;
  const StepOps s = build_step(e, {0}, 0);
  EXPECT_EQ(s.sparse_tasks, 2);                             // 2 KV heads in 2 groups
  EXPECT_DOUBLE_EQ(s.sparse_bytes, 2 * 10 * 2 * 128 * 2.0);  // 10 rows per KV head
}

TEST(PaperPreset, RecallBlocksAreReloadedEveryStepWhenAsked) {
  Experiment e = paper_experiment(1, 300, 1);
  e.system.paper.recall_blocks = 1;  // the prompt's leaving block stays in recall: nothing is CPU-only yet
  const ModelCosts costs(e.model);
  const SelectionModel sel(e.system.selection, e.model, e.seed);
  const StrategyContext ctx{e, costs, sel};
  auto s = make_strategy(ctx);
  StepGraph g;
  DecodeStep step;
  step.contexts = {301};
  s->build_decode_step(step, g);
  double reload = 0;
  bool cpu = false;
  for (const Op& op : g.ops()) {
    if (std::string(op.name) == "recall KV") reload += op.bytes;
    cpu |= op.unit == Unit::Cpu;
  }
  EXPECT_DOUBLE_EQ(reload, 64 * costs.kv_bytes_per_token_layer() * e.model.layers);
  EXPECT_FALSE(cpu);  // no sparse set yet
}

TEST(PaperPreset, RunsEndToEndAndAccountsForItsMemory) {
  Experiment e = paper_experiment(4, 4000, 80);
  e.model = test::tiny_model(4);
  const RunResult r = simulate(e);
  ASSERT_TRUE(r.feasible) << r.infeasible_reason;
  EXPECT_GT(r.tokens_per_s, 0);
  EXPECT_EQ(r.window, 256);
  const ModelCosts c(e.model);
  // CPU memory holds every evicted token plus the sparse-set copies; the GPU the 256-token window buffers.
  EXPECT_DOUBLE_EQ(r.gpu_memory.kv, 4 * 256 * c.kv_bytes_per_token_layer() * 4);
  EXPECT_GT(r.cpu_memory.kv, 4 * (4080 - 256) * c.kv_bytes_per_token_layer() * 4);
  EXPECT_GT(r.gpu_memory.metadata, 0);  // score buffers
  EXPECT_GT(r.busy.d2h, 0);
}

}  // namespace
}  // namespace hgca
