// sinks: the StreamingLLM control. The CPU attends the n oldest CPU-resident positions (attention sinks the
// GPU does not already hold) and the `recent` newest ones (a window extended onto the CPU); nothing is
// scored. "sinks" alone (or "none") selects nothing: HGCA degenerates to window-only attention.
#include <algorithm>

#include "traces/policies/factories.hpp"
#include "traces/policies/selection_rules.hpp"

namespace hgca::traces::detail {
namespace {

class SinksSelector : public GroupSelector {
 public:
  SinksSelector(std::int64_t n, std::int64_t recent) : n_(n), recent_(recent) {}
  void select(const StepView& v, GroupSelection& out) override {
    out.reset(v.group);
    const std::int64_t c = v.candidates();
    if (c <= 0) return;
    const std::int64_t first_end = v.begin + std::min(n_, c);
    const std::int64_t last_begin = std::max(first_end, v.end - std::min(recent_, c));
    auto& list = out.heads[0];
    for (std::int64_t j = v.begin; j < first_end; ++j) list.push_back(static_cast<std::int32_t>(j));
    for (std::int64_t j = last_begin; j < v.end; ++j) list.push_back(static_cast<std::int32_t>(j));
    for (int g = 1; g < v.group; ++g) out.heads[static_cast<size_t>(g)] = list;
    out.cost.indices = static_cast<std::int64_t>(list.size());  // one fixed list (two ranges, in fact)
  }

 private:
  std::int64_t n_, recent_;
};

class SinksPolicy : public Policy {
 public:
  SinksPolicy(std::int64_t n, std::int64_t recent) : n_(n), recent_(recent) {}
  std::string spec() const override {
    return "sinks:n=" + std::to_string(n_) + (recent_ > 0 ? ",recent=" + std::to_string(recent_) : "");
  }
  const char* selection_method() const override { return "none"; }
  PolicyNeeds needs() const override { return {false, 0}; }
  std::unique_ptr<GroupSelector> make_selector(int, int, int) const override {
    return std::make_unique<SinksSelector>(n_, recent_);
  }

 private:
  std::int64_t n_, recent_;
};

}  // namespace

std::unique_ptr<Policy> make_sinks(const SpecArgs& args, const PolicyOptions&) {
  args.only({"n", "recent"});
  const std::int64_t n = args.has("n") ? args.integer("n", 0, INT32_MAX) : 0;
  const std::int64_t recent = args.has("recent") ? args.integer("recent", 0, INT32_MAX) : 0;
  return std::make_unique<SinksPolicy>(n, recent);
}

}  // namespace hgca::traces::detail
