// hgca trace stats: per (layer, query head) attention statistics of a trace's decode steps: mass on the sinks
// and inside the recent window, keys needed for 90% / 99% of the mass, entropy (traces/synth/attention_stats).
#include <cstdio>
#include <iostream>
#include <sstream>

#include "sim/cli/common.hpp"
#include "sim/results/json_string.hpp"
#include "traces/format/trace.hpp"
#include "traces/synth/attention_model.hpp"
#include "traces/synth/attention_stats.hpp"

namespace hgca::cli {
namespace {

std::string fmt(const char* f, double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, x);
  return buf;
}

void print_table(const std::string& file, const traces::TraceMeta& m, const traces::synth::StatsOptions& opt,
                 const std::vector<traces::synth::HeadStats>& stats) {
  std::cout << "trace " << file << ": " << m.model_name << ", " << m.num_positions() << " positions, "
            << m.decode_steps << " decode steps (" << (stats.empty() ? 0 : stats[0].steps) << " measured); sinks "
            << opt.sinks << ", window " << opt.window << "\n";
  std::cout << "layer head   sink  window  keys90 (frac)       keys99 (frac)       entropy\n";
  double s = 0, w = 0, f90 = 0, f99 = 0, e = 0;
  for (const auto& h : stats) {
    std::cout << fmt("%5.0f", h.layer) << fmt("%5.0f", h.head) << fmt("%7.3f", h.sink_mass)
              << fmt("%8.3f", h.window_mass) << fmt("%9.1f", h.keys90) << fmt(" (%7.4f)", h.frac90)
              << fmt("%9.1f", h.keys99) << fmt(" (%7.4f)", h.frac99) << fmt("%9.3f", h.entropy) << "\n";
    s += h.sink_mass, w += h.window_mass, f90 += h.frac90, f99 += h.frac99, e += h.entropy;
  }
  const double n = stats.empty() ? 1.0 : static_cast<double>(stats.size());
  std::cout << "mean      " << fmt("%7.3f", s / n) << fmt("%8.3f", w / n) << "         " << fmt(" (%7.4f)", f90 / n)
            << "         " << fmt(" (%7.4f)", f99 / n) << fmt("%9.3f", e / n) << "\n";
}

void print_json(const std::string& file, const traces::TraceMeta& m, const traces::synth::StatsOptions& opt,
                const std::vector<traces::synth::HeadStats>& stats) {
  std::ostringstream o;
  o.precision(10);
  o << "{\"file\": " << json_string(file) << ", \"model_name\": " << json_string(m.model_name)
    << ", \"positions\": " << m.num_positions() << ", \"decode_steps\": " << m.decode_steps
    << ", \"sinks\": " << opt.sinks << ", \"window\": " << opt.window << ", \"heads\": [";
  for (size_t i = 0; i < stats.size(); ++i) {
    const auto& h = stats[i];
    o << (i ? ",\n  " : "\n  ") << "{\"layer\": " << h.layer << ", \"head\": " << h.head << ", \"steps\": " << h.steps
      << ", \"mean_context\": " << h.mean_context << ", \"sink_mass\": " << h.sink_mass
      << ", \"window_mass\": " << h.window_mass << ", \"keys90\": " << h.keys90 << ", \"frac90\": " << h.frac90
      << ", \"keys99\": " << h.keys99 << ", \"frac99\": " << h.frac99 << ", \"entropy\": " << h.entropy
      << ", \"bin_mass\": [";
    for (size_t k = 0; k < h.bin_mass.size(); ++k) o << (k ? ", " : "") << h.bin_mass[k];
    o << "]}";
  }
  o << "]}\n";
  std::cout << o.str();
}

}  // namespace

int cmd_trace_stats(const Args& args) {
  namespace po = boost::program_options;
  po::options_description opts(
      "hgca trace stats TRACE.h5 [--window W] [--sinks S] [--max-steps N] [--json]");
  std::string file;
  bool json = false;
  traces::synth::StatsOptions so;
  int64_t max_steps = 0;
  opts.add_options()("help,h", "this help")("window", po::value(&so.window),
                                            "recent-window length in positions (default 1024)")(
      "sinks", po::value(&so.sinks), "attention-sink positions at the start (default 4)")(
      "max-steps", po::value(&max_steps), "measure at most N decode steps, evenly spaced (default all)")(
      "json", po::bool_switch(&json), "print one JSON object (with the mass per distance octave)");
  po::options_description hidden;
  hidden.add_options()("file", po::value(&file));
  po::positional_options_description pos;
  pos.add("file", 1);
  po::variables_map vm;
  if (!parse_args(args, opts, hidden, pos, vm, "trace stats")) return 2;
  if (vm.count("help")) {
    std::cout << opts;
    return 0;
  }
  if (file.empty()) {
    std::cerr << "hgca trace stats: missing the trace file\n";
    return 2;
  }
  if (max_steps < 0) {
    std::cerr << "hgca trace stats: --max-steps must be >= 0, got " << max_steps << "\n";
    return 2;
  }
  try {
    const auto trace = traces::open_trace(file);
    traces::synth::check_stats_options(so, trace->meta().num_positions(), file);
    const auto stats = traces::synth::trace_stats(*trace, so, max_steps);
    if (json) print_json(file, trace->meta(), so, stats);
    else print_table(file, trace->meta(), so, stats);
  } catch (const traces::TraceError& e) {
    std::cerr << "hgca trace stats: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "hgca trace stats: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

HGCA_COMMAND("trace stats",
             "TRACE.h5 [--window W] [--sinks S] [--max-steps N] [--json]\n                              per-head "
             "attention mass on sinks / window, keys for 90% and 99%, entropy",
             cmd_trace_stats);

}  // namespace hgca::cli
