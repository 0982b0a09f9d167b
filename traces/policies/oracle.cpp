// oracle: the upper bound for a budget. The layer's total budget (budget x query heads at every step) goes to
// the CPU-resident entries of highest true attention weight over all query heads of the layer, weights
// normalized by each head's full attention (window included): the selection that recovers the most attention
// mass summed over heads for that many entries. Each head then attends its share by true logit. Always per
// query head (--shared-kv does not apply); it needs every head's exact scores before choosing, so no real
// system can run it: selection_method "oracle", costed like a full key scan.
#include <algorithm>
#include <cmath>
#include <limits>

#include "traces/policies/factories.hpp"
#include "traces/policies/scored_selector.hpp"

namespace hgca::traces::detail {
namespace {

class MassPlanner : public BudgetPlanner {
 public:
  explicit MassPlanner(Budget base) : base_(base) {}
  // The head's largest candidate weights (at most the layer total), descending, as shares of its full
  // attention over [0, position].
  void measure(const StepView& view, int g, std::vector<float>& record) const override {
    record.clear();
    const std::int64_t n = view.candidates();
    if (n <= 0) return;
    require_logits(view, "oracle");
    const float* s = view.logits[static_cast<size_t>(g)];
    float mx = -std::numeric_limits<float>::infinity();
    for (std::int64_t j = 0; j <= view.position; ++j) mx = std::max(mx, s[j]);
    double sum = 0;
    for (std::int64_t j = 0; j <= view.position; ++j) sum += std::exp(static_cast<double>(s[j]) - mx);
    const double lse = mx + std::log(sum);
    record.resize(static_cast<size_t>(n));
    for (std::int64_t i = 0; i < n; ++i)
      record[static_cast<size_t>(i)] = static_cast<float>(std::exp(static_cast<double>(s[view.begin + i]) - lse));
    const auto keep = static_cast<size_t>(std::min<std::int64_t>(n, base_.count(n) * std::max(1, view.q_heads)));
    std::partial_sort(record.begin(), record.begin() + static_cast<std::ptrdiff_t>(keep), record.end(), std::greater<>());
    record.resize(keep);
  }
  void plan(std::int64_t candidates, std::span<const std::vector<float>* const> records,
            std::span<std::int64_t> budgets) const override {
    std::fill(budgets.begin(), budgets.end(), 0);
    const std::int64_t total = base_.count(candidates) * static_cast<std::int64_t>(records.size());
    // (weight, head, rank) of every recorded entry; the `total` best, ties to the lower head then rank.
    struct Entry {
      float w;
      std::int32_t head, rank;
    };
    std::vector<Entry> all;
    for (size_t h = 0; h < records.size(); ++h)
      for (size_t r = 0; r < records[h]->size(); ++r)
        all.push_back({(*records[h])[r], static_cast<std::int32_t>(h), static_cast<std::int32_t>(r)});
    const auto take = static_cast<size_t>(std::min<std::int64_t>(total, static_cast<std::int64_t>(all.size())));
    auto better = [](const Entry& a, const Entry& b) {
      if (a.w != b.w) return a.w > b.w;
      return a.head != b.head ? a.head < b.head : a.rank < b.rank;
    };
    if (take < all.size()) std::nth_element(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(take), all.end(), better);
    for (size_t i = 0; i < take; ++i) ++budgets[static_cast<size_t>(all[i].head)];
  }

 private:
  Budget base_;
};

class OraclePolicy : public Policy {
 public:
  explicit OraclePolicy(Budget budget) : budget_(budget), planner_(budget) {}
  std::string spec() const override { return "oracle:" + budget_.spec(); }
  const char* selection_method() const override { return "oracle"; }
  PolicyNeeds needs() const override { return {true, 0}; }
  const BudgetPlanner* planner() const override { return &planner_; }
  std::unique_ptr<GroupSelector> make_selector(int, int, int) const override {
    return std::make_unique<ScoredSelector>(
        Sharing::per_head, [](const StepView& v, int head, std::span<const float> logw, std::vector<std::int32_t>& items,
                         RuleScratch& s) {
          top_count(logw, v.budgets[static_cast<size_t>(head)], false, items, s);
        });
  }

 private:
  Budget budget_;
  MassPlanner planner_;
};

}  // namespace

std::unique_ptr<Policy> make_oracle(const SpecArgs& args, const PolicyOptions&) {
  args.only({"k", "frac"});
  return std::make_unique<OraclePolicy>(Budget::parse(args));
}

}  // namespace hgca::traces::detail
