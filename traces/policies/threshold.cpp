// threshold: each head (or the group, shared) attends every CPU-resident entry whose attention weight,
// normalized over the CPU-resident entries, is at least t. Adaptive like top-p; a diffuse head may select
// nothing. max=ENTRIES (optional) keeps the highest ones only.
#include "traces/policies/factories.hpp"
#include "traces/policies/scored_selector.hpp"

namespace hgca::traces::detail {
namespace {

class ThresholdPolicy : public Policy {
 public:
  ThresholdPolicy(double t, std::int64_t max, Sharing sharing) : t_(t), max_(max), sharing_(sharing) {}
  std::string spec() const override {
    return "threshold:t=" + format_number(t_) + (max_ > 0 ? ",max=" + std::to_string(max_) : "") +
           sharing_spec(sharing_);
  }
  const char* selection_method() const override { return "key-scan"; }
  PolicyNeeds needs() const override { return {true, 0}; }
  std::unique_ptr<GroupSelector> make_selector(int, int, int) const override {
    return std::make_unique<ScoredSelector>(
        sharing_, [this](const StepView&, int, std::span<const float> logw, std::vector<std::int32_t>& items,
                         RuleScratch& s) {
          at_least(logw, t_, items, s);
          if (max_ > 0 && static_cast<std::int64_t>(items.size()) > max_) top_count(logw, max_, false, items, s);
        });
  }

 private:
  double t_;
  std::int64_t max_;
  Sharing sharing_;
};

}  // namespace

std::unique_ptr<Policy> make_threshold(const SpecArgs& args, const PolicyOptions& options) {
  args.only({"t", "max", "share"});
  const double t = args.number("t", 0.0, 1.0, /*lo_open=*/true);
  const std::int64_t max = args.has("max") ? args.integer("max", 1, INT32_MAX) : 0;
  return std::make_unique<ThresholdPolicy>(t, max, parse_sharing(args, options));
}

}  // namespace hgca::traces::detail
