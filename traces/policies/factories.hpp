// One factory per policy module (topk.cpp, topp.cpp, ...); make_policy (policies.cpp) dispatches by name.
// Internal to traces/policies. A Policy must outlive the selectors it makes.
#pragma once

#include <memory>

#include "traces/policies/policy.hpp"
#include "traces/policies/spec_args.hpp"

namespace hgca::traces::detail {

std::unique_ptr<Policy> make_topk(const SpecArgs& args, const PolicyOptions& options);
std::unique_ptr<Policy> make_topp(const SpecArgs& args, const PolicyOptions& options);
std::unique_ptr<Policy> make_threshold(const SpecArgs& args, const PolicyOptions& options);
std::unique_ptr<Policy> make_block(const SpecArgs& args, const PolicyOptions& options);
std::unique_ptr<Policy> make_h2o(const SpecArgs& args, const PolicyOptions& options);
std::unique_ptr<Policy> make_sinks(const SpecArgs& args, const PolicyOptions& options);
std::unique_ptr<Policy> make_random(const SpecArgs& args, const PolicyOptions& options);
std::unique_ptr<Policy> make_oracle(const SpecArgs& args, const PolicyOptions& options);
std::unique_ptr<Policy> make_paper(const SpecArgs& args, const PolicyOptions& options);

}  // namespace hgca::traces::detail
