#include "sim/runner/simulate.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>

#include "sim/engine/simulator.hpp"
#include "sim/hw/machine.hpp"
#include "sim/model/model_costs.hpp"
#include "sim/policy/strategy.hpp"

namespace hgca {

namespace {

std::string gib(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GiB", bytes / (1024.0 * 1024.0 * 1024.0));
  return buf;
}

// "GPU memory: weights 15.0 GiB + KV 70.1 GiB + ... = 90.2 GiB > 77.5 GiB usable"
std::string over_capacity(const char* what, const MemoryUse& m, double capacity) {
  std::string s = std::string(what) + " memory: ";
  const std::pair<const char*, double> parts[] = {{"weights", m.weights},         {"KV", m.kv},
                                                  {"activations", m.activations}, {"staging", m.staging},
                                                  {"metadata", m.metadata}};
  bool first = true;
  for (const auto& [name, v] : parts) {
    if (v <= 0) continue;
    s += (first ? "" : " + ") + std::string(name) + " " + gib(v);
    first = false;
  }
  return s + " = " + gib(m.total()) + " > " + gib(capacity) + " usable";
}

double percentile(std::vector<double> v, double p) {  // nearest rank
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * v.size()));
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

const char* track_of(const Op& op) {
  switch (op.unit) {
    case Unit::Host: return "host thread";
    case Unit::Gpu: return "GPU compute";
    case Unit::H2D: return "PCIe H2D";
    case Unit::D2H: return "PCIe D2H";
    case Unit::Cpu: return "CPU core";
  }
  return "?";
}

class TimelineRecorder final : public SpanRecorder {
 public:
  explicit TimelineRecorder(std::vector<TimelineSpan>& out) : out_(out) {}
  int step = 0;
  void span(const Op& op, int lane, SimTime start, SimTime end) override {
    TimelineSpan s;
    s.track = op.unit == Unit::Cpu ? "CPU core " + std::to_string(lane) : track_of(op);
    s.name = op.layer >= 0 ? "L" + std::to_string(op.layer) + " " + op.name : op.name;
    s.start_s = to_seconds(start);
    s.dur_s = to_seconds(end - start);
    s.step = step;
    s.layer = op.layer;
    out_.push_back(std::move(s));
  }

 private:
  std::vector<TimelineSpan>& out_;
};

// Attention workers. When the host thread runs on one of the cores, "all cores" leaves it its own core; asking
// for every core explicitly makes the host share one with a worker (Machine).
int worker_threads(const Experiment& exp) {
  const int cores = exp.hardware.cpu.cores;
  const int asked = exp.system.cpu_threads;
  if (asked > 0) return std::min(asked, cores);
  return exp.hardware.host.shares_cpu_core ? std::max(1, cores - 1) : cores;
}

}  // namespace

RunResult simulate(const Experiment& exp, const SimulateOptions& opts) {
  const auto wall0 = std::chrono::steady_clock::now();
  RunResult r;
  r.experiment = exp.name;
  r.point_label = exp.point_label;
  r.strategy = exp.system.strategy;
  r.hardware = exp.hardware.name;
  r.model = exp.model.name;
  r.seed = exp.seed;
  r.resolved_yaml = exp.resolved_yaml;

  // The requests of the batch: explicit, or `batch` copies of (prompt, decode).
  std::vector<RequestSpec> reqs = exp.workload.requests;
  if (reqs.empty()) reqs.assign(exp.workload.batch, RequestSpec{exp.workload.prompt, exp.workload.decode});
  std::vector<int64_t> prompts, finals;
  int64_t max_decode = 0;
  for (const RequestSpec& q : reqs) {
    prompts.push_back(q.prompt);
    finals.push_back(q.prompt + q.decode);
    r.context = std::max(r.context, q.prompt);
    max_decode = std::max(max_decode, q.decode);
  }
  r.batch = static_cast<int>(reqs.size());
  r.decode = max_decode;

  const ModelCosts costs(exp.model);
  const SelectionModel selection(exp.system.selection, exp.model, exp.seed);
  const StrategyContext sctx{exp, costs, selection};
  const std::unique_ptr<Strategy> strategy = make_strategy(sctx);
  r.window = strategy->reported_window();

  // Memory: a configuration that does not fit is a result, not an error.
  const MemoryPlan mem = strategy->plan_memory(prompts, finals);
  r.gpu_memory = mem.gpu;
  r.cpu_memory = mem.cpu;
  r.gpu_capacity = exp.hardware.gpu.memory_bytes - exp.hardware.gpu.reserved_bytes;
  r.cpu_capacity = exp.hardware.cpu.memory_bytes;
  if (mem.gpu.total() > r.gpu_capacity) {
    r.feasible = false;
    r.infeasible_reason = over_capacity("GPU", mem.gpu, r.gpu_capacity);
  } else if (mem.cpu.total() > r.cpu_capacity) {
    r.feasible = false;
    r.infeasible_reason = over_capacity("CPU", mem.cpu, r.cpu_capacity);
  }
  if (!r.feasible) {
    r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    return r;
  }

  Simulator sim;
  Machine machine(sim, exp.hardware, worker_threads(exp), exp.system.cpu_schedule);
  r.cpu_cores_used = machine.cpu_threads();
  TimelineRecorder recorder(r.timeline);
  StepGraph graph;

  // Prefill, chunk by chunk.
  if (exp.workload.simulate_prefill) {
    const int64_t longest = *std::max_element(prompts.begin(), prompts.end());
    const int64_t chunk = exp.workload.prefill_chunk > 0 ? exp.workload.prefill_chunk : longest;
    machine.set_recorder(opts.timeline_prefill ? &recorder : nullptr);
    recorder.step = -1;
    SimTime total = 0;
    for (int64_t b = 0; b < longest; b += chunk) {
      PrefillChunk pc;
      for (int64_t p : prompts) {
        if (p <= b) continue;
        pc.begin.push_back(b);
        pc.end.push_back(std::min(p, b + chunk));
        pc.prompt.push_back(p);
      }
      pc.last = b + chunk >= longest;
      graph.clear();
      strategy->build_prefill_chunk(pc, graph);
      total += machine.execute(graph);
    }
    r.prefill_s = to_seconds(total);
  }

  // Decode: one graph per step; a sequence leaves the batch when its decode length is reached.
  const double gpu0 = machine.gpu_busy(), h2d0 = machine.h2d_busy(), d2h0 = machine.d2h_busy();
  const double cpu0 = machine.cpu_core_seconds(), host0 = machine.host_busy();
  DecodeStep step;
  double generated = 0;
  r.step_latency_s.reserve(static_cast<size_t>(max_decode));
  for (int64_t s = 0; s < max_decode; ++s) {
    step.step = static_cast<int>(s);
    step.contexts.clear();
    for (const RequestSpec& q : reqs)
      if (s < q.decode) step.contexts.push_back(q.prompt + s + 1);
    machine.set_recorder(s < opts.timeline_steps ? &recorder : nullptr);
    recorder.step = static_cast<int>(s);
    graph.clear();
    strategy->build_decode_step(step, graph);
    // A first step with nothing before it (no prefill simulated) reuses the KV as a steady loop would.
    if (opts.steady_reuse || (s == 0 && !(machine.reuse_period() > 0)))
      machine.set_reuse_period(steady_reuse_period(exp.hardware, worker_threads(exp), exp.system.cpu_schedule, graph));
    const double latency = to_seconds(machine.execute(graph));
    r.step_latency_s.push_back(latency);
    r.decode_s += latency;
    generated += static_cast<double>(step.contexts.size());
  }
  r.busy.gpu = machine.gpu_busy() - gpu0;
  r.busy.h2d = machine.h2d_busy() - h2d0;
  r.busy.d2h = machine.d2h_busy() - d2h0;
  r.busy.cpu_core_seconds = machine.cpu_core_seconds() - cpu0;
  r.busy.host = machine.host_busy() - host0;
  r.cpu_imbalance = machine.cpu_imbalance();
  r.tokens_per_s = r.decode_s > 0 ? generated / r.decode_s : 0;
  r.step_p50_s = percentile(r.step_latency_s, 50);
  r.step_p99_s = percentile(r.step_latency_s, 99);
  r.step_mean_s = r.step_latency_s.empty() ? 0 : r.decode_s / r.step_latency_s.size();
  r.events = sim.events_processed();
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  return r;
}

}  // namespace hgca
