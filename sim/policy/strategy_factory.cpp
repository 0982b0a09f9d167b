#include <stdexcept>

#include "sim/policy/strategies/strategies.hpp"

namespace hgca {

namespace {
struct Entry {
  const char* name;
  std::unique_ptr<Strategy> (*make)(const StrategyContext&);
};
// The one list of strategies; results and plots use this order.
const Entry kStrategies[] = {
    {"gpu-full", make_gpu_full},       {"hgca", make_hgca},
    {"offload-fetch", make_offload_fetch}, {"cpu-full", make_cpu_full},
    {"window-only", make_window_only}, {"fetch-topk", make_fetch_topk},
    {"flexgen", make_flexgen},         {"h2o", make_h2o},
    {"infinigen", make_infinigen},
};
}  // namespace

const std::vector<std::string>& strategy_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const Entry& e : kStrategies) n.push_back(e.name);
    return n;
  }();
  return names;
}

std::unique_ptr<Strategy> make_strategy(const StrategyContext& ctx) {
  for (const Entry& e : kStrategies)
    if (ctx.exp.system.strategy == e.name) return e.make(ctx);
  throw std::invalid_argument("unknown strategy '" + ctx.exp.system.strategy + "'");
}

}  // namespace hgca
