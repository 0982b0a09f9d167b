// make_policy: the spec string's name picks the module; the module reads its own keys.
#include <stdexcept>

#include "traces/policies/factories.hpp"
#include "traces/policies/policy.hpp"

namespace hgca::traces {

namespace {
using Factory = std::unique_ptr<Policy> (*)(const detail::SpecArgs&, const PolicyOptions&);
struct Entry {
  const char* name;
  Factory make;
};
constexpr Entry kPolicies[] = {
    {"topk", detail::make_topk},     {"topp", detail::make_topp},     {"threshold", detail::make_threshold},
    {"block", detail::make_block},   {"h2o", detail::make_h2o},       {"sinks", detail::make_sinks},
    {"none", detail::make_sinks},    {"random", detail::make_random}, {"oracle", detail::make_oracle},
    {"paper", detail::make_paper},
};
}  // namespace

std::vector<std::string> policy_names() {
  std::vector<std::string> names;
  for (const Entry& e : kPolicies) names.emplace_back(e.name);
  return names;
}

std::unique_ptr<Policy> make_policy(const std::string& spec, const PolicyOptions& options) {
  const detail::SpecArgs args(spec);
  for (const Entry& e : kPolicies)
    if (args.name() == e.name) {
      std::unique_ptr<Policy> p = e.make(args, options);
      p->options_ = options;
      return p;
    }
  std::string list;
  for (const Entry& e : kPolicies) list += (list.empty() ? "" : ", ") + std::string(e.name);
  args.fail("unknown policy \"" + args.name() + "\" (known: " + list + ")");
}

}  // namespace hgca::traces
