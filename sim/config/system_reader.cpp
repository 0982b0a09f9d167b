#include <algorithm>
#include <filesystem>

#include "sim/config/map_reader.hpp"
#include "sim/config/names.hpp"
#include "sim/config/readers.hpp"
#include "sim/config/references.hpp"
#include "sim/config/units.hpp"

namespace hgca::cfg {
namespace {

// Values with a valid default are checked whenever given, whichever strategy or source is active; values whose
// default means "unset" (top_k, the profile path) only when the active source needs them. That way one system
// block can serve a sweep over strategies.

double share(const MapReader& r, std::string_view key, double fallback, bool zero_allowed) {
  const double value = r.real(key, fallback);
  const bool ok = (zero_allowed ? value >= 0 : value > 0) && value <= 1;
  r.check(ok, key, "must lie in " + std::string(zero_allowed ? "[0, 1]" : "(0, 1]") + ", got " + format_number(value),
          "a fraction such as 0.05");
  return value;
}

SelectionSpec read_selection(const MapReader& r) {
  SelectionSpec s;
  s.source = r.choice<SelectionSource>("source", kSelectionSourceNames, s.source);
  s.granularity = r.choice<SelectionGranularity>("granularity", kSelectionGranularityNames, s.granularity);
  s.fraction = share(r, "fraction", s.fraction, false);
  s.top_k = r.integer("top_k", s.top_k);
  if (s.source == SelectionSource::TopK)
    r.check(
        s.top_k >= 1, "top_k",
        r.has("top_k") ? "must be at least 1, got " + std::to_string(s.top_k) : "missing required key for source topk",
        "an entry count such as 512");
  s.median_fraction = share(r, "median_fraction", s.median_fraction, false);
  s.sigma = r.real("sigma", s.sigma);
  r.check(s.sigma >= 0, "sigma", "must not be negative, got " + format_number(s.sigma),
          "a log-normal sigma such as 1.5");
  s.min_fraction = share(r, "min_fraction", s.min_fraction, true);
  s.max_fraction = share(r, "max_fraction", s.max_fraction, false);
  r.check(s.min_fraction <= s.max_fraction, "min_fraction",
          "min_fraction " + format_number(s.min_fraction) + " exceeds max_fraction " + format_number(s.max_fraction),
          "min_fraction <= max_fraction");
  if (r.has("path")) s.profile_path = resolve_relative(r.text("path"), r.origin_of("path")).string();
  if (s.source == SelectionSource::Profile) {
    r.check(r.has("path"), "path", "missing required key for source profile", "the path of a selection profile (HDF5)");
    r.check(std::filesystem::is_regular_file(s.profile_path), "path", "profile file missing: " + s.profile_path,
            "an existing selection profile, relative to the file that names it");
  }
  return s;
}

// The longest sequence the workload reaches, prompt plus generated tokens.
int64_t longest_context(const WorkloadSpec& w) {
  if (w.requests.empty()) return w.prompt + w.decode;
  int64_t longest = 0;
  for (const RequestSpec& q : w.requests) longest = std::max(longest, q.prompt + q.decode);
  return longest;
}

int64_t at_least(const MapReader& r, std::string_view key, int64_t fallback, int64_t minimum,
                 std::string_view example) {
  const int64_t value = r.integer(key, fallback);
  r.check(value >= minimum, key, "must be at least " + std::to_string(minimum) + ", got " + std::to_string(value),
          example);
  return value;
}

int small_at_least(const MapReader& r, std::string_view key, int fallback, int minimum, std::string_view example) {
  const int value = r.small_integer(key, fallback);
  r.check(value >= minimum, key, "must be at least " + std::to_string(minimum) + ", got " + std::to_string(value),
          example);
  return value;
}

PaperSpec read_paper(const MapReader& r) {
  PaperSpec p;
  p.block_size = at_least(r, "block_size", p.block_size, 1, "a block size in tokens such as 64");
  p.gpu_blocks = small_at_least(r, "gpu_blocks", p.gpu_blocks, 1, "a block count such as 16");
  p.recall_blocks = small_at_least(r, "recall_blocks", p.recall_blocks, 0, "a block count such as 2, or 0");
  p.alpha = share(r, "alpha", p.alpha, false);
  p.beta = r.real("beta", p.beta);
  r.check(p.beta > 0, "beta", "must be positive, got " + format_number(p.beta), "a threshold factor such as 0.5");
  p.head_groups = small_at_least(r, "head_groups", p.head_groups, 1, "a group count such as 4");
  p.keep_min = at_least(r, "keep_min", p.keep_min, 0, "a token count such as 10");
  p.selection = r.choice<PaperSelectionScope>("selection", kPaperSelectionScopeNames, p.selection);
  p.threshold_over = r.choice<PaperThresholdBase>("threshold_over", kPaperThresholdBaseNames, p.threshold_over);
  p.recall_reload = r.flag("recall_reload", p.recall_reload);
  p.framework_copies = r.flag("framework_copies", p.framework_copies);
  return p;
}

}  // namespace

SystemSpec read_system(const Node& node, const std::string& path, const WorkloadSpec& workload,
                       const HardwareProfile& hardware) {
  const MapReader r(node, path,
                    {"strategy", "window", "sinks", "eviction_batch", "selection", "selection_method", "summary_block",
                     "reselect_interval", "cpu_threads", "cpu_schedule", "cpu_task", "prefetch_layers", "pinned",
                     "activation_tokens", "weights_on_gpu", "overlap_io", "attention_only", "preset", "paper", "h2o",
                     "infinigen", "flexgen"});
  SystemSpec s;
  static constexpr auto strategies = [] {
    std::array<std::pair<std::string_view, std::string_view>, kStrategyNames.size()> table{};
    for (size_t i = 0; i < table.size(); ++i) table[i] = {kStrategyNames[i], kStrategyNames[i]};
    return table;
  }();
  s.strategy = std::string(r.choice<std::string_view>("strategy", strategies, std::string_view(s.strategy)));

  s.preset = r.choice<HgcaPreset>("preset", kHgcaPresetNames, s.preset);
  s.window = r.integer("window", s.window);
  s.sinks = at_least(r, "sinks", s.sinks, 0, "a token count such as 4");
  // The paper preset sizes its window in blocks (system.paper), so system.window does not apply to it.
  const bool paper = s.strategy == "hgca" && s.preset == HgcaPreset::Paper;
  if (strategy_uses_window(s.strategy) && !paper) {
    r.check(s.window >= 1, "window",
            "must be at least 1 for strategy " + s.strategy + ", got " + std::to_string(s.window),
            "a token count such as 4096");
    const int64_t context = longest_context(workload);
    r.check(s.window <= context, "window",
            std::to_string(s.window) + (r.has("window") ? "" : " (the default)") +
                " tokens exceed the whole context (prompt + decode = " + std::to_string(context) + ") for strategy " +
                s.strategy,
            "a window no longer than prompt + decode");
    r.check(s.sinks < s.window, "sinks",
            std::to_string(s.sinks) + " sink tokens do not fit in a window of " + std::to_string(s.window),
            "fewer sinks than window tokens");
  }
  s.eviction_batch = at_least(r, "eviction_batch", s.eviction_batch, 1, "a token count such as 64");
  s.selection = read_selection(r.optional_child("selection", {"source", "fraction", "top_k", "median_fraction", "sigma",
                                                              "min_fraction", "max_fraction", "path", "granularity"}));
  s.selection_method = r.choice<SelectionMethod>("selection_method", kSelectionMethodNames, s.selection_method);
  s.summary_block = at_least(r, "summary_block", s.summary_block, 1, "a block size such as 16");
  s.reselect_interval = small_at_least(r, "reselect_interval", s.reselect_interval, 1, "a step count such as 8");
  s.cpu_threads = r.small_integer("cpu_threads", s.cpu_threads);
  r.check(s.cpu_threads >= 0 && s.cpu_threads <= hardware.cpu.cores, "cpu_threads",
          std::to_string(s.cpu_threads) + " threads on a CPU with " + std::to_string(hardware.cpu.cores) + " cores",
          "0 (all cores) up to hardware.cpu.cores");
  s.cpu_schedule = r.choice<CpuSchedule>("cpu_schedule", kCpuScheduleNames, s.cpu_schedule);
  s.cpu_task = r.choice<CpuTaskGranularity>("cpu_task", kCpuTaskNames, s.cpu_task);
  s.prefetch_layers = small_at_least(r, "prefetch_layers", s.prefetch_layers, 0, "a layer count such as 1");
  s.pinned = r.flag("pinned", s.pinned);
  s.activation_tokens = at_least(r, "activation_tokens", s.activation_tokens, 0, "a token count, or 0 for batch");
  s.weights_on_gpu = share(r, "weights_on_gpu", s.weights_on_gpu, false);
  s.overlap_io = r.flag("overlap_io", s.overlap_io);
  s.attention_only = r.flag("attention_only", s.attention_only);
  s.paper = read_paper(r.optional_child("paper", {"block_size", "gpu_blocks", "recall_blocks", "alpha", "beta",
                                                  "head_groups", "keep_min", "selection", "threshold_over",
                                                  "recall_reload", "framework_copies"}));
  const MapReader h2o = r.optional_child("h2o", {"budget", "heavy_share"});
  s.h2o.budget = share(h2o, "budget", s.h2o.budget, false);
  s.h2o.heavy_share = share(h2o, "heavy_share", s.h2o.heavy_share, true);
  const MapReader ig = r.optional_child("infinigen", {"budget", "partial_ratio"});
  s.infinigen.budget = share(ig, "budget", s.infinigen.budget, false);
  s.infinigen.partial_ratio = share(ig, "partial_ratio", s.infinigen.partial_ratio, false);
  const MapReader fg = r.optional_child("flexgen", {"cpu_attention", "kv_on_gpu"});
  s.flexgen.cpu_attention = fg.flag("cpu_attention", s.flexgen.cpu_attention);
  s.flexgen.kv_on_gpu = share(fg, "kv_on_gpu", s.flexgen.kv_on_gpu, true);
  return s;
}

}  // namespace hgca::cfg
