// paper: HGCA as its authors built it (docs/PAPER.md, sim/policy/paper_selection.hpp). The GPU holds a block
// window (gpu_blocks x block tokens) and the recall_blocks most recently evicted blocks; every head keeps a
// smoothed score per GPU-attended position; when tokens leave the recall region each head keeps
// max(keep_min, its head group's largest count of scores >= beta / n) of them, by its own top-k, in a CPU-side
// sparse set that only grows (until a multi-token append reselects it). The prompt is one multi-token append.
//
// Spec keys (defaults are the authors'): alpha=0.5, beta=0.5, keep_min=10, head_groups=4, block=64,
// gpu_blocks=16, recall_blocks=2, scope=q-head|kv-head (GQA: one set per query head, or one per KV head from
// the group's mean weights; --shared-kv means kv-head), threshold=attended|context (the n of beta / n),
// prompt=queries|first-decode (where the prompt's selection scores come from; see PaperPolicySpec).
//
// Stateful over the whole trace: replay runs it through traces/replay/paper_replay.cpp, never through
// make_selector.
#include <stdexcept>

#include "traces/policies/factories.hpp"

namespace hgca::traces::detail {
namespace {

class PaperPolicy : public Policy {
 public:
  explicit PaperPolicy(PaperPolicySpec spec) : spec_(spec) {}
  std::string spec() const override {
    const PaperSpec& p = spec_.mechanism;
    return "paper:alpha=" + format_number(p.alpha) + ",beta=" + format_number(p.beta) +
           ",keep_min=" + std::to_string(p.keep_min) + ",head_groups=" + std::to_string(p.head_groups) +
           ",block=" + std::to_string(p.block_size) + ",gpu_blocks=" + std::to_string(p.gpu_blocks) +
           ",recall_blocks=" + std::to_string(p.recall_blocks) +
           ",scope=" + (p.selection == PaperSelectionScope::KvHead ? "kv-head" : "q-head") +
           ",threshold=" + (p.threshold_over == PaperThresholdBase::Context ? "context" : "attended") +
           ",prompt=" + (spec_.prompt == PaperPolicySpec::Prompt::first_decode ? "first-decode" : "queries");
  }
  // Selection reads the smoothed scores the GPU's window attention produced, nothing on the CPU side.
  const char* selection_method() const override { return "smoothed-scores"; }
  PolicyNeeds needs() const override { return {true, 0}; }
  const PaperPolicySpec* paper() const override { return &spec_; }
  std::unique_ptr<GroupSelector> make_selector(int, int, int) const override {
    throw std::logic_error("policy paper is stateful over the whole trace: replay runs it through its own driver");
  }

 private:
  PaperPolicySpec spec_;
};

}  // namespace

std::unique_ptr<Policy> make_paper(const SpecArgs& args, const PolicyOptions& options) {
  args.only({"alpha", "beta", "keep_min", "head_groups", "block", "gpu_blocks", "recall_blocks", "scope", "threshold",
             "prompt"});
  PaperPolicySpec s;
  PaperSpec& p = s.mechanism;
  if (args.has("alpha")) p.alpha = args.number("alpha", 0, 1, /*lo_open=*/true);
  if (args.has("beta")) p.beta = args.number("beta", 0, 1e9);
  if (args.has("keep_min")) p.keep_min = args.integer("keep_min", 0, INT32_MAX);
  if (args.has("head_groups")) p.head_groups = static_cast<int>(args.integer("head_groups", 1, 65536));
  if (args.has("block")) p.block_size = args.integer("block", 1, 1 << 24);
  if (args.has("gpu_blocks")) p.gpu_blocks = static_cast<int>(args.integer("gpu_blocks", 1, 1 << 24));
  if (args.has("recall_blocks")) p.recall_blocks = static_cast<int>(args.integer("recall_blocks", 0, 1 << 24));
  const bool kv = args.has("scope") ? args.word("scope", {"q-head", "kv-head"}) == "kv-head" : options.shared_kv;
  if (options.shared_kv && !kv) args.fail("scope=q-head contradicts --shared-kv (which means scope=kv-head)");
  p.selection = kv ? PaperSelectionScope::KvHead : PaperSelectionScope::QueryHead;
  if (args.has("threshold"))
    p.threshold_over = args.word("threshold", {"attended", "context"}) == "context" ? PaperThresholdBase::Context
                                                                                      : PaperThresholdBase::Attended;
  if (args.has("prompt"))
    s.prompt = args.word("prompt", {"queries", "first-decode"}) == "first-decode" ? PaperPolicySpec::Prompt::first_decode
                                                                                  : PaperPolicySpec::Prompt::queries;
  return std::make_unique<PaperPolicy>(s);
}

}  // namespace hgca::traces::detail
