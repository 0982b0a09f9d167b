// hgca bench engine: how fast the simulator itself runs, on the reference run of issue 2: Llama-3.1-8B on
// the device-machine profile, batch 32, 32K context, 1,024 decode steps, hgca with one CPU task per
// (sequence, query head). Prints events/s, wall time and peak memory (targets in docs/PERFORMANCE.md).
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "sim/cli/common.hpp"
#include "sim/config/loader.hpp"

namespace hgca::cli {

namespace {
double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;  // Linux reports KiB
}
}  // namespace

int cmd_bench_engine(const Args& args) {
  namespace po = boost::program_options;
  po::options_description opts("hgca bench engine [options]");
  bool json = false;
  int steps = 1024, batch = 32;
  int64_t context = 32768;
  std::string hardware = "device-h100", model = "llama-3.1-8b";
  opts.add_options()("help,h", "this help")("json", po::bool_switch(&json), "print one JSON object")(
      "steps", po::value(&steps)->default_value(1024), "decode steps")(
      "batch", po::value(&batch)->default_value(32), "sequences")(
      "context", po::value(&context)->default_value(32768), "prompt tokens")(
      "hardware", po::value(&hardware)->default_value("device-h100"), "hardware profile")(
      "model", po::value(&model)->default_value("llama-3.1-8b"), "model shape");
  po::options_description hidden;
  po::positional_options_description pos;
  po::variables_map vm;
  if (!parse_args(args, opts, hidden, pos, vm, "bench engine")) return 2;
  if (vm.count("help")) {
    std::cout << opts;
    return 0;
  }
  Experiment e;
  try {
    e.hardware = load_hardware(hardware);
    e.model = load_model(model);
  } catch (const ConfigError& err) {
    std::cerr << "error: " << err.what() << "\n";
    return 2;
  }
  e.name = "bench-engine";
  e.workload.batch = batch;
  e.workload.prompt = context;
  e.workload.decode = steps;
  e.workload.simulate_prefill = false;
  e.system.strategy = "hgca";
  e.system.window = 4096;
  e.system.cpu_task = CpuTaskGranularity::Head;
  e.system.selection.source = SelectionSource::Distribution;
  const auto t0 = std::chrono::steady_clock::now();
  const RunResult r = simulate(e);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double eps = wall > 0 ? r.events / wall : 0;
  if (json) {
    std::printf(
        "{\"benchmark\": \"engine\", \"model\": \"%s\", \"hardware\": \"%s\", \"batch\": %d, \"context\": %lld, "
        "\"decode_steps\": %d, \"events\": %llu, \"wall_s\": %.4f, \"events_per_second\": %.0f, "
        "\"peak_rss_mb\": %.1f, \"simulated_tokens_per_s\": %.2f}\n",
        e.model.name.c_str(), e.hardware.name.c_str(), batch, static_cast<long long>(context), steps,
        static_cast<unsigned long long>(r.events), wall, eps, peak_rss_mb(), r.tokens_per_s);
  } else {
    std::printf("reference run: %s on %s, batch %d, context %lld, %d decode steps, hgca (task per sequence x head)\n",
                e.model.name.c_str(), e.hardware.name.c_str(), batch, static_cast<long long>(context), steps);
    std::printf("  events            %llu\n  wall time         %.3f s\n  events per second %.3g\n"
                "  peak memory       %.1f MB\n  simulated decode  %.1f tokens/s\n",
                static_cast<unsigned long long>(r.events), wall, eps, peak_rss_mb(), r.tokens_per_s);
  }
  return 0;
}

HGCA_COMMAND("bench engine", "[--json] [--steps N]\n                              time the simulator on the reference run (Llama-3.1-8B, batch 32, 32K)", cmd_bench_engine);

}  // namespace hgca::cli
