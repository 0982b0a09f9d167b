// The words configuration files use for strategies and enumerations, in one place so that the loader, the
// resolved-YAML writer and result files all spell them the same way.
#pragma once

#include <array>
#include <span>
#include <string_view>
#include <utility>

#include "sim/config/experiment.hpp"

namespace hgca {

// Strategy names accepted in system.strategy.
inline constexpr std::array<std::string_view, 9> kStrategyNames = {
    "gpu-full", "hgca", "offload-fetch", "cpu-full", "window-only", "fetch-topk", "flexgen", "h2o", "infinigen"};
// Strategies that keep a recent-token window on the GPU (and so need 1 <= window <= prompt + decode).
bool strategy_uses_window(std::string_view strategy);

inline constexpr std::array<std::pair<SelectionSource, std::string_view>, 4> kSelectionSourceNames = {{
    {SelectionSource::Fraction, "fraction"},
    {SelectionSource::TopK, "topk"},
    {SelectionSource::Distribution, "distribution"},
    {SelectionSource::Profile, "profile"},
}};
inline constexpr std::array<std::pair<SelectionGranularity, std::string_view>, 2> kSelectionGranularityNames = {{
    {SelectionGranularity::QueryHead, "query-head"},
    {SelectionGranularity::KvHead, "kv-head"},
}};
inline constexpr std::array<std::pair<SelectionMethod, std::string_view>, 4> kSelectionMethodNames = {{
    {SelectionMethod::KeyScan, "key-scan"},
    {SelectionMethod::BlockSummary, "block-summary"},
    {SelectionMethod::ReuseLast, "reuse-last"},
    {SelectionMethod::Given, "given"},
}};
inline constexpr std::array<std::pair<CpuSchedule, std::string_view>, 2> kCpuScheduleNames = {{
    {CpuSchedule::Static, "static"},
    {CpuSchedule::Dynamic, "dynamic"},
}};
inline constexpr std::array<std::pair<CpuTaskGranularity, std::string_view>, 3> kCpuTaskNames = {{
    {CpuTaskGranularity::Head, "head"},
    {CpuTaskGranularity::KvHead, "kv-head"},
    {CpuTaskGranularity::Sequence, "sequence"},
}};

inline constexpr std::array<std::pair<HgcaPreset, std::string_view>, 2> kHgcaPresetNames = {{
    {HgcaPreset::Default, "default"},
    {HgcaPreset::Paper, "paper"},
}};
inline constexpr std::array<std::pair<PaperSelectionScope, std::string_view>, 2> kPaperSelectionScopeNames = {{
    {PaperSelectionScope::QueryHead, "per-query-head"},
    {PaperSelectionScope::KvHead, "per-kv-head"},
}};
inline constexpr std::array<std::pair<PaperThresholdBase, std::string_view>, 2> kPaperThresholdBaseNames = {{
    {PaperThresholdBase::Attended, "attended"},
    {PaperThresholdBase::Context, "context"},
}};

// Data types of weights and KV entries, with their size in bytes per element.
inline constexpr std::array<std::pair<std::string_view, double>, 6> kDtypeBytes = {{
    {"fp32", 4},
    {"fp16", 2},
    {"bf16", 2},
    {"fp8", 1},
    {"int8", 1},
    {"int4", 0.5},
}};

std::string_view to_string(SelectionSource value);
std::string_view to_string(SelectionGranularity value);
std::string_view to_string(SelectionMethod value);
std::string_view to_string(CpuSchedule value);
std::string_view to_string(CpuTaskGranularity value);
std::string_view to_string(HgcaPreset value);
std::string_view to_string(PaperSelectionScope value);
std::string_view to_string(PaperThresholdBase value);

}  // namespace hgca
