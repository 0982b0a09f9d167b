#include "traces/policies/scored_selector.hpp"

#include <stdexcept>
#include <string>

namespace hgca::traces::detail {

void require_logits(const StepView& view, const char* policy) {
  if (view.logits.size() != static_cast<size_t>(view.group))
    throw std::logic_error(std::string(policy) + ": the step view carries no logits");
}

void ScoredSelector::select(const StepView& view, GroupSelection& out) {
  out.reset(view.group);
  const std::int64_t n = view.candidates();
  if (n <= 0) return;
  require_logits(view, "scored policy");
  spans_.resize(static_cast<size_t>(view.group));
  for (int g = 0; g < view.group; ++g)
    spans_[static_cast<size_t>(g)] = {view.logits[static_cast<size_t>(g)] + view.begin, static_cast<size_t>(n)};
  select_items(
      sharing_, spans_,
      [&](std::span<const float> logw, int head, std::vector<std::int32_t>& items) {
        rule_(view, head, logw, items, scratch_);
      },
      items_, scratch_);
  for (int g = 0; g < view.group; ++g)
    items_to_positions(items_[static_cast<size_t>(g)], view.begin, out.heads[static_cast<size_t>(g)]);
  out.cost.keys_scored = n;
  out.cost.indices = index_count(out, sharing_ != Sharing::per_head);
}

}  // namespace hgca::traces::detail
