// Constructors of the individual strategies; make_strategy() in strategy.cpp picks one by name.
#pragma once

#include <memory>

#include "sim/policy/strategy.hpp"

namespace hgca {

std::unique_ptr<Strategy> make_gpu_full(const StrategyContext& ctx);
std::unique_ptr<Strategy> make_hgca(const StrategyContext& ctx);
std::unique_ptr<Strategy> make_offload_fetch(const StrategyContext& ctx);
std::unique_ptr<Strategy> make_cpu_full(const StrategyContext& ctx);
std::unique_ptr<Strategy> make_window_only(const StrategyContext& ctx);
std::unique_ptr<Strategy> make_fetch_topk(const StrategyContext& ctx);
std::unique_ptr<Strategy> make_hgca_paper(const StrategyContext& ctx);  // hgca with preset paper
std::unique_ptr<Strategy> make_flexgen(const StrategyContext& ctx);
std::unique_ptr<Strategy> make_h2o(const StrategyContext& ctx);
std::unique_ptr<Strategy> make_infinigen(const StrategyContext& ctx);

}  // namespace hgca
