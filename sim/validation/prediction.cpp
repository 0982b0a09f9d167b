#include "sim/validation/prediction.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>
#include <stdexcept>

#include "sim/config/yaml_writer.hpp"
#include "sim/engine/parallel_for.hpp"
#include "sim/runner/simulate.hpp"

namespace hgca::validation {

namespace {

std::string where(const MeasuredRow& r) {
  return (r.line > 0 ? "line " + std::to_string(r.line) + " " : std::string()) + "(point " + std::to_string(r.point.id) + ")";
}

ModelShape attention_shape(const ValidationPoint& p) {
  ModelShape m;
  m.name = "attention-" + std::to_string(p.q_heads) + "x" + std::to_string(p.kv_heads) + "x" + std::to_string(p.head_dim);
  m.source = "hgca validate: the attention shape of a measured row (one layer, attention only)";
  m.layers = 1;
  m.q_heads = p.q_heads;
  m.kv_heads = p.kv_heads;
  m.head_dim = p.head_dim;
  m.hidden = p.q_heads * p.head_dim;  // unused by attention-only steps; any valid size
  m.intermediate = m.hidden;
  m.vocab = 1;
  m.weight_dtype = "fp16";
  m.weight_bytes_per_param = 2;
  m.kv_dtype = "fp16";
  m.kv_bytes_per_elem = 2;
  return m;
}

CpuTaskGranularity task_of(const MeasuredRow& r) {
  const std::string& t = r.point.cpu_task;
  if (t == "kv_group") return CpuTaskGranularity::KvHead;
  if (t == "head") return CpuTaskGranularity::Head;
  if (t == "sequence") return CpuTaskGranularity::Sequence;
  throw std::runtime_error(where(r) + ": cpu_task '" + t + "' is not kv_group, head or sequence");
}

}  // namespace

Experiment experiment_for(const MeasuredRow& row, const HardwareProfile& hardware, const LoadOptions& opts) {
  const ValidationPoint& p = row.point;
  const std::int64_t pool = p.pool_rows();
  if (pool < 2 || p.window < 2)
    throw std::runtime_error(where(row) + ": context " + std::to_string(p.context) + " and window " + std::to_string(p.window) +
                             " leave " + std::to_string(pool) + " pool rows; the comparison needs window >= 2 and at least 2 pool rows");
  Experiment e;
  e.name = "validate";
  e.source_file = "hgca validate predict";
  e.point_label = "id=" + std::to_string(p.id) + " role=" + to_string(p.role) + " kind=" + to_string(p.kind);
  e.hardware = hardware;
  // Only time is compared: the runner holds one layer's KV and reuses it for every layer of a decode step.
  e.hardware.gpu.memory_bytes = std::max(e.hardware.gpu.memory_bytes, 1e15);
  e.hardware.cpu.memory_bytes = std::max(e.hardware.cpu.memory_bytes, 1e15);
  if (p.kind == PointKind::Attention) {
    e.model = attention_shape(p);
  } else {
    try {
      e.model = load_model(p.model, opts);
    } catch (const std::exception& ex) {
      throw std::runtime_error(where(row) + ": model '" + p.model + "': " + ex.what());
    }
    if (e.model.q_heads != p.q_heads || e.model.kv_heads != p.kv_heads || e.model.head_dim != p.head_dim ||
        e.model.layers != p.layers)
      throw std::runtime_error(where(row) + ": model '" + p.model + "' has " + std::to_string(e.model.layers) + " layers, " +
                               std::to_string(e.model.q_heads) + "/" + std::to_string(e.model.kv_heads) + " heads, head_dim " +
                               std::to_string(e.model.head_dim) + ", but the row says " + std::to_string(p.layers) + ", " +
                               std::to_string(p.q_heads) + "/" + std::to_string(p.kv_heads) + ", " + std::to_string(p.head_dim));
    e.model.kv_dtype = "fp16";  // the runner's KV and weights
    e.model.kv_bytes_per_elem = 2;
    e.model.weight_dtype = "fp16";
    e.model.weight_bytes_per_param = 2;
  }
  // Two decode steps; step kComparedStep (the second) has context prompt + 2 = the runner's context (its token
  // placement is worked out below). The runner draws fresh random lists outside its timed region: `given`
  // selection charges no selection work, only the gather of the selected rows and their attention, and counts
  // the lists as new every step for the cache.
  e.workload.batch = p.batch;
  e.workload.prompt = p.context - 2;
  e.workload.decode = 2;
  e.workload.simulate_prefill = false;
  SystemSpec& s = e.system;
  s.strategy = "hgca";
  s.sinks = 0;
  // Token placement: the runner keeps exactly the last `window` tokens on the GPU and the other P = context -
  // window in the pool, and evicts nothing during a step. The simulator's window holds between window and
  // window + eviction_batch - 1 tokens and charges a write-back on the step that makes a batch overflow. With
  // window - 1 and an eviction batch that divides P (2 when P is even, P itself when odd), the compared step
  // has P + 1 tokens over the window: P of them in CPU memory, `window` on the GPU, and no write-back.
  s.window = p.window - 1;
  s.eviction_batch = pool % 2 == 0 ? 2 : pool;
  s.selection = SelectionSpec{};
  s.selection.source = SelectionSource::TopK;
  s.selection.top_k = p.cpu_select;
  s.selection.granularity = SelectionGranularity::QueryHead;  // each query head its own random list
  s.selection_method = SelectionMethod::Given;
  s.cpu_threads = p.threads;
  s.cpu_schedule = CpuSchedule::Dynamic;
  s.cpu_task = task_of(row);
  s.pinned = true;
  s.weights_on_gpu = 1.0;
  s.attention_only = p.kind == PointKind::Attention;
  s.preset = HgcaPreset::Default;
  e.seed = 1;
  e.resolved_yaml = experiment_to_yaml(e);
  return e;
}

std::vector<PredictedRow> predict_rows(const std::vector<MeasuredRow>& rows, const HardwareProfile& hardware,
                                       const LoadOptions& opts, int jobs, bool phases) {
  // Build every experiment first (errors in input order), then simulate in parallel.
  std::vector<Experiment> exps;
  exps.reserve(rows.size());
  for (const MeasuredRow& r : rows) exps.push_back(experiment_for(r, hardware, opts));
  std::vector<PredictedRow> out(rows.size());
  parallel_for(rows.size(), std::max(1, jobs), [&](std::size_t i) {
    PredictedRow& o = out[i];
    o.measured = rows[i];
    try {
      SimulateOptions so;
      so.timeline_steps = phases ? kComparedStep + 1 : 0;
      so.steady_reuse = true;  // the runner repeats the compared step: each step comes back after its own length
      const RunResult r = simulate(exps[i], so);
      o.feasible = r.feasible;
      if (!r.feasible || r.step_latency_s.size() <= static_cast<std::size_t>(kComparedStep)) {
        o.feasible = false;
        o.note = r.feasible ? "no compared step" : r.infeasible_reason;
        return;
      }
      o.predicted_ms = r.step_latency_s[kComparedStep] * 1e3;
      o.error = (o.predicted_ms - o.measured.total_ms) / o.measured.total_ms;
      o.predicted_phases = phases_from_timeline(r.timeline, kComparedStep);
    } catch (const std::exception& e) {
      throw std::runtime_error(where(rows[i]) + ": " + e.what());
    }
  });
  return out;
}

MeasuredPhases phases_from_timeline(const std::vector<TimelineSpan>& spans, int step) {
  // Per layer: when the CPU may start (the later of the query copy's end and the host's wait on it) and when
  // its last task ends. Op names come after the "L<layer> " prefix.
  struct CpuWindow {
    double ready = 0, end = 0;
    bool seen = false;
  };
  std::map<int, CpuWindow> cpu;
  MeasuredPhases p;
  for (const TimelineSpan& s : spans) {
    if (s.step != step) continue;
    const std::size_t sp = s.name.find(' ');
    const std::string op = s.layer >= 0 && sp != std::string::npos ? s.name.substr(sp + 1) : s.name;
    const double ms = s.dur_s * 1e3, end = s.start_s + s.dur_s;
    if (op == "window-attn") p.gpu_window_ms += ms;
    else if (op == "queries to host") {
      p.d2h_query_ms += ms;
      cpu[s.layer].ready = std::max(cpu[s.layer].ready, end);
    } else if (op == "wait queries (host)") cpu[s.layer].ready = std::max(cpu[s.layer].ready, end);
    else if (op == "sparse-attn") {
      cpu[s.layer].end = std::max(cpu[s.layer].end, end);
      cpu[s.layer].seen = true;
    } else if (op == "partials to GPU") p.h2d_result_ms += ms;
    else if (op == "lse-merge") p.merge_ms += ms;
  }
  for (const auto& [layer, w] : cpu)
    if (w.seen) p.cpu_attention_ms += std::max(0.0, w.end - w.ready) * 1e3;
  return p;
}

double phase_error(double predicted_ms, double measured_ms) {
  return measured_ms > 0 ? (predicted_ms - measured_ms) / measured_ms : std::nan("");
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double pos = std::clamp(p, 0.0, 100.0) / 100.0 * static_cast<double>(v.size() - 1);
  const std::size_t lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

PassDrift pass_drift(const std::vector<MeasuredRow>& rows) {
  PassDrift out;
  std::vector<std::vector<double>> by_pass;
  for (const MeasuredRow& r : rows) {
    if (r.pass_ms.size() < 2) continue;
    const double mid = percentile(r.pass_ms, 50);
    if (!(mid > 0)) continue;
    ++out.rows;
    if (by_pass.size() < r.pass_ms.size()) by_pass.resize(r.pass_ms.size());
    for (std::size_t i = 0; i < r.pass_ms.size(); ++i) by_pass[i].push_back(r.pass_ms[i] / mid - 1);
  }
  for (const auto& v : by_pass) out.by_pass.push_back(percentile(v, 50));
  return out;
}

std::string describe_pass_drift(const std::vector<MeasuredRow>& rows, double threshold) {
  const PassDrift drift = pass_drift(rows);
  if (drift.by_pass.empty()) return "";
  std::ostringstream o;
  o << "passes against each row's median over its passes (" << drift.rows << " rows):";
  double worst = 0;
  for (std::size_t i = 0; i < drift.by_pass.size(); ++i) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%s pass %zu %+.1f %%", i ? "," : "", i + 1, 100.0 * drift.by_pass[i]);
    o << buf;
    worst = std::max(worst, std::abs(drift.by_pass[i]));
  }
  if (worst >= threshold)
    o << "; a whole pass " << static_cast<int>(std::lround(100 * threshold))
      << " % or more off: the machine changed during the measurement (measure again, or with more passes)";
  return o.str();
}

std::vector<ErrorSummary> summarize(const std::vector<PredictedRow>& rows) {
  std::vector<ErrorSummary> out;
  for (const PointKind kind : {PointKind::Attention, PointKind::DecodeStep})
    for (const char* role : {"fit", "holdout", "all"}) {
      std::vector<double> errs, noise;
      for (const PredictedRow& r : rows)
        if (r.feasible && r.measured.point.kind == kind &&
            (std::string(role) == "all" || std::string(role) == to_string(r.measured.point.role))) {
          errs.push_back(std::abs(r.error));
          const double se = pass_standard_error(r.measured);
          if (!std::isnan(se)) noise.push_back(se);
        }
      if (errs.empty()) continue;
      ErrorSummary s;
      s.rows_with_passes = static_cast<int>(noise.size());
      s.median_standard_error = noise.empty() ? std::nan("") : percentile(noise, 50);
      s.role = role;
      s.kind = to_string(kind);
      s.count = static_cast<int>(errs.size());
      s.median_abs_error = percentile(errs, 50);
      s.p90_abs_error = percentile(errs, 90);
      out.push_back(s);
    }
  return out;
}

}  // namespace hgca::validation
