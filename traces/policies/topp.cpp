// topp: each head (or the group, shared) attends the smallest set of CPU-resident entries holding a share p
// of the attention mass over the CPU-resident entries (the CPU can compute that share itself after its key
// scan; the GPU window's mass is not known to it). Adaptive by nature: a focused head takes a few entries, a
// diffuse one many. max=ENTRIES (optional) caps the set.
#include <algorithm>

#include "traces/policies/factories.hpp"
#include "traces/policies/scored_selector.hpp"

namespace hgca::traces::detail {
namespace {

class TopPPolicy : public Policy {
 public:
  TopPPolicy(double p, std::int64_t max, Sharing sharing) : p_(p), max_(max), sharing_(sharing) {}
  std::string spec() const override {
    return "topp:p=" + format_number(p_) + (max_ > 0 ? ",max=" + std::to_string(max_) : "") + sharing_spec(sharing_);
  }
  const char* selection_method() const override { return "key-scan"; }
  PolicyNeeds needs() const override { return {true, 0}; }
  std::unique_ptr<GroupSelector> make_selector(int, int, int) const override {
    return std::make_unique<ScoredSelector>(
        sharing_, [this](const StepView&, int, std::span<const float> logw, std::vector<std::int32_t>& items,
                         RuleScratch& s) {
          smallest_mass(logw, p_, items, s);
          if (max_ > 0 && static_cast<std::int64_t>(items.size()) > max_) top_count(logw, max_, false, items, s);
        });
  }

 private:
  double p_;
  std::int64_t max_;
  Sharing sharing_;
};

}  // namespace

std::unique_ptr<Policy> make_topp(const SpecArgs& args, const PolicyOptions& options) {
  args.only({"p", "max", "share"});
  const double p = args.number("p", 0.0, 1.0, /*lo_open=*/true);
  const std::int64_t max = args.has("max") ? args.integer("max", 1, INT32_MAX) : 0;
  return std::make_unique<TopPPolicy>(p, max, parse_sharing(args, options));
}

}  // namespace hgca::traces::detail
