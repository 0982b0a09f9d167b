// The selector shared by the policies that rank CPU-resident candidates by their true logits (top-k, top-p,
// threshold, oracle): the CPU scans every candidate key once per KV group, then a rule picks items from the
// logits, per head or shared by the group. Internal to traces/policies.
#pragma once

#include <functional>

#include "traces/policies/selection_rules.hpp"

namespace hgca::traces::detail {

class ScoredSelector : public GroupSelector {
 public:
  // rule(view, head, logits of the candidates, items out, scratch); head is -1 for a shared list.
  using ViewRule =
      std::function<void(const StepView&, int, std::span<const float>, std::vector<std::int32_t>&, RuleScratch&)>;
  ScoredSelector(Sharing sharing, ViewRule rule) : sharing_(sharing), rule_(std::move(rule)) {}
  void select(const StepView& view, GroupSelection& out) override;

 private:
  Sharing sharing_;
  ViewRule rule_;
  std::vector<std::span<const float>> spans_;
  std::vector<std::vector<std::int32_t>> items_;
  RuleScratch scratch_;
};

// Checks the view carries logits for every head (a replay bug otherwise).
void require_logits(const StepView& view, const char* policy);

}  // namespace hgca::traces::detail
