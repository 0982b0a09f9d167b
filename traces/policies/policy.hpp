// Sparsity policies: which CPU-resident KV entries each query head attends at one decode step.
//
// HGCA keeps the `window` most recent positions (and `sinks` first ones) on the GPU; every older position is
// CPU-resident and a policy picks, per decode step, the entries each query head attends among those
// candidates. A policy works on one KV group at a time (the query heads that read one KV head), so GQA
// models read the group's keys once.
//
// GQA sharing (PolicyOptions::shared_kv): off, every query head gets its own list. On, the group's heads
// attend one shared list, chosen either
//   share=sum    (default) by the group's summed weights: each head's weights over the candidates are
//                normalized (probabilities), averaged over the heads, and the rule applied once; or
//   share=union  by the union of the lists the heads would choose on their own (more entries than the
//                per-head budget, never less mass for any head).
//
// Each policy reports what its selection costs (SelectionCost), in rows so the simulator can price them at
// its own element size: key rows scored, block-summary rows read, accumulator entries read and indices
// produced (what a CPU gather or a PCIe transfer of the selection carries).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "kernels/cpu/kv_store.hpp"
#include "kernels/cpu/selection.hpp"
#include "sim/config/experiment.hpp"  // PaperSpec: plain data, no library dependency

namespace hgca::traces {

struct PolicyOptions {
  bool shared_kv = false;  // one list per KV group instead of one per query head
};

// Everything one step's selection may look at, for the `group` query heads of one KV head.
struct StepView {
  int layer = 0;
  int kv_head = 0;
  int group = 1;             // query heads in the group; query head g of the group is kv_head * group + g
  int q_heads = 1;           // query heads of the layer (all groups)
  int step = 0;              // decode step (0-based)
  std::int64_t position = 0; // the token being decoded; it attends positions [0, position]
  std::int64_t begin = 0;    // CPU-resident candidates are [begin, end) (end == begin: none)
  std::int64_t end = 0;
  int head_dim = 0;
  float scale = 0;           // softmax scale of the logits
  std::span<const float> q;  // [group x head_dim] this step's queries

  // logits[g][j] = scale * q_g . k_j for every position j in [0, position]; only when needs().scores.
  std::span<const float* const> logits;
  // This KV head's keys and values (one sequence, one KV head, all positions of the trace). Causality is the
  // policy's duty: it must not look past `position`.
  const kernels::KvStore* kv = nullptr;
  // Whole-block min/max key summaries of all positions; only when needs().summary_block > 0. Blocks that
  // reach past `end` are not yet complete on the CPU: a policy summarizes their CPU-resident part itself.
  const kernels::BlockSummaries* summaries = nullptr;
  // Entry budgets of the group's query heads planned for this step (BudgetPlanner); empty without a planner.
  std::span<const std::int64_t> budgets;

  std::int64_t candidates() const { return end - begin; }
};

// What one step's selection of one KV group cost; each field counts rows or entries, not bytes.
struct SelectionCost {
  std::int64_t keys_scored = 0;    // CPU-resident key rows read and scored (a full key scan reads them once per group)
  std::int64_t summary_rows = 0;   // block-summary rows read (2 per block: min and max)
  std::int64_t state_entries = 0;  // per-position accumulator entries read (heavy hitters)
  std::int64_t indices = 0;        // indices produced: one list per query head, or one shared list
  SelectionCost& operator+=(const SelectionCost& o) {
    keys_scored += o.keys_scored;
    summary_rows += o.summary_rows;
    state_entries += o.state_entries;
    indices += o.indices;
    return *this;
  }
};

// One step's selection of a KV group: for every query head the absolute positions it attends on the CPU,
// ascending, each in [begin, end) and at most once. Buffers are kept across steps.
struct GroupSelection {
  std::vector<std::vector<std::int32_t>> heads;
  SelectionCost cost;
  void reset(int group) {
    heads.resize(static_cast<std::size_t>(group));
    for (auto& h : heads) h.clear();
    cost = {};
  }
};

// What happened at a step, for policies that learn from the attention actually computed (heavy hitters).
struct StepOutcome {
  std::span<const std::int32_t> window;  // positions the GPU attended (sinks and window), same for all heads
  std::span<const float> lse;            // [group] natural-log LSE of each head's merged (window + CPU) attention
};

// The selection state of one KV group through the decode steps of one layer. select() is called for the
// steps in order; observe() after each step's attention.
class GroupSelector {
 public:
  virtual ~GroupSelector() = default;
  virtual void select(const StepView& view, GroupSelection& out) = 0;
  virtual void observe(const StepView& /*view*/, const GroupSelection& /*sel*/, const StepOutcome& /*outcome*/) {}
};

// Budgets that depend on all query heads of a layer at one step (adaptive top-k, the oracle). Replay runs
// measure() in a first pass over the trace, then plan() for each (layer, step), then the selection pass.
class BudgetPlanner {
 public:
  virtual ~BudgetPlanner() = default;
  // A record of head g at this step (logits available): whatever plan() needs.
  virtual void measure(const StepView& view, int g, std::vector<float>& record) const = 0;
  // budgets[h] for every query head h of the layer, from their records, `candidates` CPU-resident entries each.
  virtual void plan(std::int64_t candidates, std::span<const std::vector<float>* const> records,
                    std::span<std::int64_t> budgets) const = 0;
};

// HGCA as published (policy "paper", traces/policies/paper.cpp): a block window with recall, smoothed GPU-side
// scores and selection at eviction (sim/policy/paper_selection.hpp). Its state spans the prompt and every
// decode step of a layer, so replay runs it through its own driver (traces/replay/paper_replay.hpp) rather
// than through per-step GroupSelectors.
struct PaperPolicySpec {
  // Where the prompt's selection scores come from: the trace's prompt queries (their mean attention weights,
  // as PaperSelector's multi-token append expects), or, for traces without them, decode step 0's query
  // standing in for the prompt's (its weights over the prompt positions).
  enum class Prompt { queries, first_decode };
  PaperSpec mechanism;
  Prompt prompt = Prompt::queries;
};

struct PolicyNeeds {
  bool scores = false;    // StepView::logits
  int summary_block = 0;  // StepView::summaries with this block size (0: none)
};

class Policy {
 public:
  virtual ~Policy() = default;
  virtual std::string spec() const = 0;             // canonical spec, every parameter spelled out
  virtual const char* selection_method() const = 0; // "key-scan", "block-summary", "accumulated", "oracle", "none"
  virtual PolicyNeeds needs() const = 0;
  virtual std::unique_ptr<GroupSelector> make_selector(int layer, int kv_head, int group) const = 0;
  virtual const BudgetPlanner* planner() const { return nullptr; }
  // Non-null for the paper policy: replay hands the whole trace to its stateful driver.
  virtual const PaperPolicySpec* paper() const { return nullptr; }
  // The options it was made with (make_policy records them).
  const PolicyOptions& options() const { return options_; }

 private:
  friend std::unique_ptr<Policy> make_policy(const std::string& spec, const PolicyOptions& options);
  PolicyOptions options_;
};

// Parses a policy spec ("topk:k=256", "topp:p=0.95", "block:size=16,k=32", ...; docs/REPLAY.md lists them
// all). Throws std::invalid_argument with a one-line message naming the spec, the key and what was expected.
std::unique_ptr<Policy> make_policy(const std::string& spec, const PolicyOptions& options = {});

// The policy names make_policy accepts, for help texts.
std::vector<std::string> policy_names();

}  // namespace hgca::traces
