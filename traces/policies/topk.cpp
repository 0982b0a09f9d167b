// topk: each head (or the group, shared) attends the k CPU-resident entries of highest logit, found by a full
// scan of the CPU-resident keys. Budget: k=ENTRIES or frac=SHARE of the candidates. adapt=entropy turns the
// budget into a layer total (budget x query heads) spread over the heads at every step in proportion to
// exp(entropy) of each head's candidate distribution, its effective number of attended entries: focused
// heads give entries to diffuse ones.
#include <cmath>

#include "traces/policies/factories.hpp"
#include "traces/policies/scored_selector.hpp"

namespace hgca::traces::detail {
namespace {

class EntropyPlanner : public BudgetPlanner {
 public:
  explicit EntropyPlanner(Budget base) : base_(base) {}
  void measure(const StepView& view, int g, std::vector<float>& record) const override {
    record.clear();
    const std::int64_t n = view.candidates();
    if (n <= 0) return;
    require_logits(view, "topk");
    std::vector<double> prob;
    softmax({view.logits[static_cast<size_t>(g)] + view.begin, static_cast<size_t>(n)}, prob);
    double h = 0;
    for (const double p : prob)
      if (p > 0) h -= p * std::log(p);
    record.push_back(static_cast<float>(h));
  }
  void plan(std::int64_t candidates, std::span<const std::vector<float>* const> records,
            std::span<std::int64_t> budgets) const override {
    std::vector<double> w(records.size(), 0.0);
    for (size_t h = 0; h < records.size(); ++h)
      if (!records[h]->empty()) w[h] = std::exp(static_cast<double>((*records[h])[0]));
    const std::int64_t total = base_.count(candidates) * static_cast<std::int64_t>(records.size());
    distribute(total, w, candidates, budgets);
  }

 private:
  Budget base_;
};

class TopKPolicy : public Policy {
 public:
  TopKPolicy(Budget budget, Sharing sharing, bool adapt) : budget_(budget), sharing_(sharing), adapt_(adapt), planner_(budget) {}
  std::string spec() const override {
    return "topk:" + budget_.spec() + (adapt_ ? ",adapt=entropy" : "") + sharing_spec(sharing_);
  }
  const char* selection_method() const override { return "key-scan"; }
  PolicyNeeds needs() const override { return {true, 0}; }
  const BudgetPlanner* planner() const override { return adapt_ ? &planner_ : nullptr; }
  std::unique_ptr<GroupSelector> make_selector(int, int, int) const override {
    return std::make_unique<ScoredSelector>(
        sharing_, [this](const StepView& v, int head, std::span<const float> logw, std::vector<std::int32_t>& items,
                         RuleScratch& s) {
          const std::int64_t n = static_cast<std::int64_t>(logw.size());
          const std::int64_t k = adapt_ ? v.budgets[static_cast<size_t>(head)] : budget_.count(n);
          top_count(logw, k, false, items, s);
        });
  }

 private:
  Budget budget_;
  Sharing sharing_;
  bool adapt_;
  EntropyPlanner planner_;
};

}  // namespace

std::unique_ptr<Policy> make_topk(const SpecArgs& args, const PolicyOptions& options) {
  args.only({"k", "frac", "adapt", "share"});
  const Budget budget = Budget::parse(args);
  const bool adapt = args.has("adapt") && args.word("adapt", {"none", "entropy"}) == "entropy";
  const Sharing sharing = parse_sharing(args, options);
  if (adapt && sharing != Sharing::per_head) args.fail("adapt=entropy plans per-head budgets: not with --shared-kv");
  return std::make_unique<TopKPolicy>(budget, sharing, adapt);
}

}  // namespace hgca::traces::detail
