#include "tests/results/sample_runs.hpp"

namespace hgca::test {
namespace {
constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
}

RunResult simple_feasible_run(const std::string& strategy, int batch, int64_t context) {
  RunResult r;
  r.experiment = "unit";
  r.strategy = strategy;
  r.hardware = "h100-test";
  r.model = "llama-test";
  r.batch = batch;
  r.context = context;
  r.decode = 4;
  r.window = 1024;
  r.step_latency_s = {0.5, 0.5, 0.5, 0.5};
  r.decode_s = 2.0;
  r.tokens_per_s = batch * 4 / 2.0;
  r.step_p50_s = 0.5;
  r.step_p99_s = 0.5;
  r.step_mean_s = 0.5;
  r.busy = {.gpu = 1.0, .h2d = 0.5, .d2h = 0.2, .cpu_core_seconds = 6.0, .host = 0.1};
  r.cpu_cores_used = 4;
  r.gpu_memory = {.weights = 10 * kGiB, .kv = 5 * kGiB, .activations = 0.5 * kGiB, .staging = 0.25 * kGiB,
                  .metadata = 0.25 * kGiB};
  r.cpu_memory = {.weights = 0, .kv = 38 * kGiB, .activations = 1 * kGiB, .staging = 0.5 * kGiB,
                  .metadata = 0.5 * kGiB};
  r.gpu_capacity = 78 * kGiB;
  r.cpu_capacity = 512 * kGiB;
  return r;
}

RunResult simple_infeasible_run(const std::string& strategy, int batch, int64_t context,
                                const std::string& reason) {
  RunResult r;
  r.experiment = "unit";
  r.strategy = strategy;
  r.hardware = "h100-test";
  r.model = "llama-test";
  r.batch = batch;
  r.context = context;
  r.decode = 4;
  r.feasible = false;
  r.infeasible_reason = reason;
  return r;
}

RunResult fully_populated_run() {
  RunResult r;
  r.experiment = "exp, \"quoted\"";
  r.point_label = "ctx=32768\nbatch=8";
  r.strategy = "hgca";
  r.hardware = "H100 — 80 GB";  // UTF-8 em dash
  r.model = "llama-3.1-8b";
  r.batch = 7;
  r.context = 123456789012;
  r.decode = 33;
  r.window = 4096;
  r.seed = 18446744073709551557ull;  // above INT64_MAX: must survive as unsigned
  r.resolved_yaml = "system:\n  strategy: hgca\n  window: 4096\n" + std::string(70000, '#') + "\n";
  r.feasible = false;
  r.infeasible_reason = "GPU memory: KV 70.1 GiB + weights 15.0 GiB > 78.0 GiB usable";
  r.prefill_s = 1.25;
  r.step_latency_s = {0.1, 0.2, 0.30000000000000004, 1e-300};
  r.decode_s = 0.6;
  r.tokens_per_s = 385.0;
  r.step_p50_s = 0.2;
  r.step_p99_s = 0.3;
  r.step_mean_s = 0.15;
  r.busy = {.gpu = 0.11, .h2d = 0.12, .d2h = 0.13, .cpu_core_seconds = 0.14, .host = 0.15};
  r.cpu_cores_used = 48;
  r.cpu_imbalance = 1.07;
  r.gpu_memory = {.weights = 1.1, .kv = 1.2, .activations = 1.3, .staging = 1.4, .metadata = 1.5};
  r.cpu_memory = {.weights = 2.1, .kv = 2.2, .activations = 2.3, .staging = 2.4, .metadata = 2.5};
  r.gpu_capacity = 3.1;
  r.cpu_capacity = 3.2;
  r.events = 9876543210;
  r.wall_s = 0.0421;
  return r;
}

// tokens_per_s = base(strategy) * batch * 65536 / context, with base 100 (gpu-full), 80 (hgca; +2 for seed 1),
// 20 (offload-fetch).
std::vector<RunResult> sample_sweep() {
  std::vector<RunResult> runs;
  const auto add = [&](const std::string& strategy, int batch, int64_t context, uint64_t seed, double base) {
    RunResult r = simple_feasible_run(strategy, batch, context);
    r.experiment = "sample";
    r.point_label = "batch=" + std::to_string(batch) + " context=" + std::to_string(context);
    r.seed = seed;
    r.tokens_per_s = base * batch * 65536.0 / static_cast<double>(context);
    r.decode_s = r.decode * batch / r.tokens_per_s;
    r.step_p50_s = r.decode_s / static_cast<double>(r.decode);
    r.step_p99_s = 1.5 * r.step_p50_s;
    r.step_mean_s = r.step_p50_s;
    r.step_latency_s.assign(static_cast<size_t>(r.decode), r.step_p50_s);
    r.busy = {.gpu = 0.5 * r.decode_s, .h2d = 0.25 * r.decode_s, .d2h = 0.1 * r.decode_s,
              .cpu_core_seconds = 0.75 * r.decode_s * 4, .host = 0.05 * r.decode_s};
    runs.push_back(r);
  };
  for (int batch : {1, 8}) {
    for (int64_t context : {4096, 16384, 65536}) {
      const bool gpu_fits = batch == 1 ? context < 65536 : context < 16384;
      if (gpu_fits) {
        add("gpu-full", batch, context, 0, 100);
      } else {
        RunResult r = simple_infeasible_run("gpu-full", batch, context, "GPU memory: KV does not fit");
        r.experiment = "sample";
        r.window = 1024;
        runs.push_back(r);
      }
      add("hgca", batch, context, 0, 80);
      add("hgca", batch, context, 1, 82);
      add("offload-fetch", batch, context, 0, 20);
    }
  }
  return runs;
}

}  // namespace hgca::test
