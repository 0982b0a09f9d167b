// h2o: accumulated heavy hitters (H2O-like). Every head keeps, per position, the attention weight it has
// received so far: after each step every position the head actually attended (GPU window and sinks plus its
// own CPU selection) adds its weight under the merged attention, exp(logit - lse). A position the head did not
// attend adds nothing, so the policy learns only from what it computed, as H2O does. Each step the head (or
// the group, shared: summed normalized accumulators) attends the `budget` CPU-resident positions of highest
// accumulated weight; ties, and the first step where nothing is known yet (traces hold no prompt queries), go
// to the most recent positions. Unlike H2O nothing is evicted for good: a position can come back.
#include <algorithm>
#include <cmath>
#include <limits>

#include "traces/policies/factories.hpp"
#include "traces/policies/scored_selector.hpp"

namespace hgca::traces::detail {
namespace {

class H2OSelector : public GroupSelector {
 public:
  H2OSelector(Budget budget, Sharing sharing) : budget_(budget), sharing_(sharing) {}

  void select(const StepView& v, GroupSelection& out) override {
    out.reset(v.group);
    ensure_state(v);
    const std::int64_t n = v.candidates();
    if (n <= 0) return;
    logw_.resize(static_cast<size_t>(v.group));
    spans_.resize(static_cast<size_t>(v.group));
    for (int g = 0; g < v.group; ++g) {
      auto& w = logw_[static_cast<size_t>(g)];
      w.resize(static_cast<size_t>(n));
      const float* acc = acc_[static_cast<size_t>(g)].data() + v.begin;
      for (std::int64_t i = 0; i < n; ++i)
        w[static_cast<size_t>(i)] = acc[i] > 0 ? std::log(acc[i]) : -std::numeric_limits<float>::infinity();
      spans_[static_cast<size_t>(g)] = w;
    }
    const std::int64_t k = budget_.count(n);
    select_items(
        sharing_, spans_,
        [&](std::span<const float> lw, int, std::vector<std::int32_t>& items) { top_count(lw, k, true, items, scratch_); },
        items_, scratch_);
    for (int g = 0; g < v.group; ++g)
      items_to_positions(items_[static_cast<size_t>(g)], v.begin, out.heads[static_cast<size_t>(g)]);
    out.cost.state_entries = static_cast<std::int64_t>(v.group) * n;
    out.cost.indices = index_count(out, sharing_ != Sharing::per_head);
  }

  void observe(const StepView& v, const GroupSelection& sel, const StepOutcome& outcome) override {
    require_logits(v, "h2o");
    ensure_state(v);
    for (int g = 0; g < v.group; ++g) {
      float* acc = acc_[static_cast<size_t>(g)].data();
      const float* s = v.logits[static_cast<size_t>(g)];
      const double lse = outcome.lse[static_cast<size_t>(g)];
      auto add = [&](std::int32_t j) { acc[j] += static_cast<float>(std::exp(static_cast<double>(s[j]) - lse)); };
      for (const std::int32_t j : outcome.window) add(j);
      for (const std::int32_t j : sel.heads[static_cast<size_t>(g)]) add(j);
    }
  }

 private:
  // One accumulator per head over every position the trace can reach (grown if a view reaches further).
  void ensure_state(const StepView& v) {
    const auto n = static_cast<size_t>(std::max<std::int64_t>(v.kv ? v.kv->tokens(0) : 0, v.position + 1));
    acc_.resize(static_cast<size_t>(v.group));
    for (auto& a : acc_)
      if (a.size() < n) a.resize(n, 0.0f);
  }

  Budget budget_;
  Sharing sharing_;
  std::vector<std::vector<float>> acc_;  // [group][positions] accumulated attention weight
  std::vector<std::vector<float>> logw_;
  std::vector<std::span<const float>> spans_;
  std::vector<std::vector<std::int32_t>> items_;
  RuleScratch scratch_;
};

class H2OPolicy : public Policy {
 public:
  H2OPolicy(Budget budget, Sharing sharing) : budget_(budget), sharing_(sharing) {}
  std::string spec() const override {
    std::string b = budget_.spec();
    return "h2o:" + (budget_.k > 0 ? b : "budget=" + format_number(budget_.frac)) + sharing_spec(sharing_);
  }
  const char* selection_method() const override { return "accumulated"; }
  PolicyNeeds needs() const override { return {true, 0}; }  // logits of the attended positions, to accumulate
  std::unique_ptr<GroupSelector> make_selector(int, int, int) const override {
    return std::make_unique<H2OSelector>(budget_, sharing_);
  }

 private:
  Budget budget_;
  Sharing sharing_;
};

}  // namespace

// budget=SHARE (a fraction of the candidates, as in "h2o:budget=0.05") or k=ENTRIES; frac= is accepted too.
std::unique_ptr<Policy> make_h2o(const SpecArgs& args, const PolicyOptions& options) {
  args.only({"budget", "frac", "k", "share"});
  Budget b;
  const int given = static_cast<int>(args.has("budget")) + args.has("frac") + args.has("k");
  if (given != 1) args.fail("give exactly one budget: budget=SHARE, frac=SHARE or k=ENTRIES");
  if (args.has("budget")) {
    b.frac = args.number("budget", 0.0, 1.0, /*lo_open=*/true);
  } else {
    b = Budget::parse(args);
  }
  return std::make_unique<H2OPolicy>(b, parse_sharing(args, options));
}

}  // namespace hgca::traces::detail
