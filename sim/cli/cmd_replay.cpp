// hgca replay: exact attention against HGCA's (GPU window + sinks, CPU sparse selection, LSE merge) over a
// captured trace under a sparsity policy; quality tables, an HDF5 results file and the selection profile the
// simulator reads (docs/REPLAY.md). Results are the same whatever --threads.
#include <boost/program_options.hpp>
#include <iostream>

#include "sim/cli/commands.hpp"
#include "sim/cli/common.hpp"
#include "sim/engine/parallel_for.hpp"
#include "traces/policies/policy.hpp"
#include "traces/replay/replay.hpp"
#include "traces/replay/replay_files.hpp"
#include "traces/replay/report.hpp"

namespace hgca::cli {

namespace po = boost::program_options;

int cmd_replay(const Args& args) {
  po::options_description opts("hgca replay TRACE.h5 --policy SPEC --window W [options]");
  std::string trace_path, spec, out, profile;
  std::int64_t window = 0, sinks = 0;
  int threads = resolve_jobs(0);
  bool shared_kv = false, json = false;
  opts.add_options()("help,h", "this help")(
      "policy", po::value(&spec), "sparsity policy, e.g. topk:k=256, topp:p=0.95, block:size=16,k=32, paper (docs/REPLAY.md)")(
      "window", po::value(&window), "GPU window: the W most recent positions (the decoded token included); not for --policy paper")(
      "sinks", po::value(&sinks)->default_value(0), "the first S positions also stay on the GPU")(
      "shared-kv", po::bool_switch(&shared_kv), "one selection per KV group instead of per query head")(
      "json", po::bool_switch(&json), "print one JSON object instead of tables")(
      "output,o", po::value(&out), "results file (HDF5): every per-(layer, head, step) figure")(
      "profile", po::value(&profile), "selection profile (HDF5) for the simulator's system.selection: {source: profile}")(
      "threads", po::value(&threads), "worker threads (default: all cores; results do not depend on it)");
  po::options_description hidden;
  hidden.add_options()("trace", po::value(&trace_path));
  po::positional_options_description pos;
  pos.add("trace", 1);
  po::variables_map vm;
  if (!parse_args(args, opts, hidden, pos, vm, "replay")) return 2;
  if (vm.count("help")) {
    std::cout << opts;
    return 0;
  }
  auto usage = [](const std::string& why) {
    std::cerr << "hgca replay: " << why << "\n";
    return 2;
  };
  if (trace_path.empty()) return usage("missing the trace file (hgca replay TRACE.h5 --policy SPEC --window W)");
  if (spec.empty()) return usage("missing --policy SPEC (e.g. topk:k=256)");

  std::unique_ptr<traces::Policy> policy;
  try {
    policy = traces::make_policy(spec, traces::PolicyOptions{shared_kv});
  } catch (const std::invalid_argument& e) {
    return usage(e.what());
  }
  // The paper policy's GPU window comes from its spec (gpu_blocks x block).
  if (!vm.count("window") && !policy->paper()) return usage("missing --window W");
  traces::ReplayResult result;
  try {
    const std::unique_ptr<traces::TraceSource> trace = traces::open_trace(trace_path);
    traces::ReplayOptions o;
    o.window = window;
    o.sinks = sinks;
    o.threads = threads;
    result = traces::replay(*trace, *policy, o);
  } catch (const std::invalid_argument& e) {  // options the trace cannot satisfy
    return usage(trace_path + ": " + e.what());
  } catch (const traces::TraceError& e) {  // missing, malformed or inconsistent trace file
    return usage(e.what());
  } catch (const std::exception& e) {
    std::cerr << "hgca replay: " << trace_path << ": " << e.what() << "\n";
    return 1;
  }
  try {
    if (!out.empty()) traces::write_replay_results(result, out, trace_path);
    if (!profile.empty()) traces::write_selection_profile(result, profile, trace_path);
  } catch (const std::exception& e) {
    std::cerr << "hgca replay: " << e.what() << "\n";
    return 1;
  }
  if (json) {
    traces::print_json(std::cout, result, trace_path);
  } else {
    traces::print_report(std::cout, result, trace_path);
  }
  return 0;
}

HGCA_COMMAND("replay",
             "TRACE.h5 --policy SPEC --window W [--sinks S] [--shared-kv] [--json] [-o OUT.h5] [--profile P.h5] [--threads N]\n"
             "                              exact vs HGCA attention over a trace under a sparsity policy",
             cmd_replay);

}  // namespace hgca::cli
