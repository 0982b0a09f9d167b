#include "sim/config/names.hpp"

namespace hgca {
namespace {

template <class E, size_t N>
std::string_view name_in(const std::array<std::pair<E, std::string_view>, N>& table, E value) {
  for (const auto& [e, name] : table)
    if (e == value) return name;
  return "?";  // unreachable while every enumerator is in its table
}

}  // namespace

bool strategy_uses_window(std::string_view strategy) {
  return strategy == "hgca" || strategy == "window-only" || strategy == "fetch-topk";
}

std::string_view to_string(SelectionSource value) { return name_in(kSelectionSourceNames, value); }
std::string_view to_string(SelectionGranularity value) { return name_in(kSelectionGranularityNames, value); }
std::string_view to_string(SelectionMethod value) { return name_in(kSelectionMethodNames, value); }
std::string_view to_string(CpuSchedule value) { return name_in(kCpuScheduleNames, value); }
std::string_view to_string(CpuTaskGranularity value) { return name_in(kCpuTaskNames, value); }
std::string_view to_string(HgcaPreset value) { return name_in(kHgcaPresetNames, value); }
std::string_view to_string(PaperSelectionScope value) { return name_in(kPaperSelectionScopeNames, value); }
std::string_view to_string(PaperThresholdBase value) { return name_in(kPaperThresholdBaseNames, value); }

}  // namespace hgca
