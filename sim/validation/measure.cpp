#include "sim/validation/measure.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <ostream>
#include <stdexcept>

#include "sim/validation/prediction.hpp"

#ifdef HGCA_HAVE_HYBRID
#include "kernels/cuda/runtime.hpp"
#include "kernels/hybrid/hybrid_step.hpp"
#endif
#ifdef HGCA_HAVE_HYBRID_MODEL
#include "kernels/hybrid/model_step.hpp"
#endif

namespace hgca::validation {

namespace {

[[maybe_unused]] std::string cpu_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      const auto c = line.find(':');
      return c == std::string::npos ? line : line.substr(line.find_first_not_of(" \t", c + 1));
    }
  return "unknown CPU";
}

[[maybe_unused]] double mem_available_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  double kb = 0;
  std::string unit;
  while (in >> key >> kb >> unit)
    if (key == "MemAvailable:") return kb * 1024;
  return 0;
}

[[maybe_unused]] std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

#ifdef HGCA_HAVE_HYBRID
namespace {

using namespace hgca::kernels;
using namespace hgca::kernels::hybrid;

HybridConfig runner_config(const ValidationPoint& p, const MeasureOptions& o) {
  HybridConfig c;
  c.worker_spin_us = o.worker_spin_us;
  c.huge_pages = o.huge_pages;
  c.warm_pool = o.warm_pool;
  c.batch = p.batch;
  c.q_heads = p.q_heads;
  c.kv_heads = p.kv_heads;
  c.head_dim = p.head_dim;
  c.context = p.context;
  c.window = p.window;
  c.sinks = 0;
  c.type = KvType::f16;
  c.cpu_select = p.cpu_select;
  c.selection = Selection::random;
  c.redraw = true;
  c.granularity = p.cpu_task == "head" ? TaskGranularity::head
                  : p.cpu_task == "sequence" ? TaskGranularity::sequence
                                             : TaskGranularity::kv_group;
  c.threads = p.threads;
  c.seed = 1;
  return c;
}

double median_of(std::vector<double> v) { return percentile(std::move(v), 50); }

struct Samples {
  std::vector<double> total, gpu, d2h, cpu, h2d, merge;
  std::vector<double> pass;  // the median step of each pass
  void add(double t, const PhaseTimes& p) {
    total.push_back(t);
    gpu.push_back(p.gpu_window_ms);
    d2h.push_back(p.d2h_query_ms);
    cpu.push_back(p.cpu_select_ms + p.cpu_attention_ms);
    h2d.push_back(p.h2d_result_ms);
    merge.push_back(p.merge_ms);
  }
  void store(MeasuredRow& r) const {
    r.total_ms = median_of(total);
    r.total_p10_ms = percentile(total, 10);
    r.total_p90_ms = percentile(total, 90);
    r.phases.gpu_window_ms = median_of(gpu);
    r.phases.d2h_query_ms = median_of(d2h);
    r.phases.cpu_attention_ms = median_of(cpu);
    r.phases.h2d_result_ms = median_of(h2d);
    r.phases.merge_ms = median_of(merge);
    r.pass_ms = pass;
  }
};

void measure_attention(const ValidationPoint& p, const MeasureOptions& o, Samples& s) {
  HybridStep step(runner_config(p, o));
  const Repetitions rep = repetitions_for(p.kind);
  for (int i = 0; i < rep.warmup; ++i) step.run();
  for (int i = 0; i < rep.reps; ++i) {
    const PhaseTimes t = step.run();
    s.add(t.total_ms, t);
  }
  const CheckResult chk = step.check(2);
  if (chk.max_rel_error > 1e-3)
    throw std::runtime_error("point " + std::to_string(p.id) + ": the runner's result is wrong (max relative error " +
                             std::to_string(chk.max_rel_error) + ")");
}

void measure_decode_step(const ValidationPoint& p, const MeasureOptions& o, Samples& s) {
#ifdef HGCA_HAVE_HYBRID_MODEL
  if (p.model != "llama-3.1-8b")
    throw std::runtime_error("point " + std::to_string(p.id) + ": the decode-step runner knows llama-3.1-8b only, not '" +
                             p.model + "'");
  ModelStepConfig c;
  c.layers = p.layers;
  c.hidden = 4096;
  c.intermediate = 14336;
  c.vocab = 128256;
  c.attention = runner_config(p, o);
  ModelStep step(c);
  const Repetitions rep = repetitions_for(p.kind);
  for (int i = 0; i < rep.warmup; ++i) step.run();
  for (int i = 0; i < rep.reps; ++i) {
    const ModelStepTimes t = step.run();
    s.add(t.total_ms, t.attention);
  }
#else
  (void)o;
  (void)s;
  throw std::runtime_error("point " + std::to_string(p.id) +
                           ": this hgca was built without cuBLAS (no hgca_hybrid_model), so it cannot run decode-step points");
#endif
}

}  // namespace

std::string measure_unavailable() {
  std::string why;
  if (cuda::device_count(&why) == 0) return "no CUDA device (" + why + "): measuring needs the GPU runner";
  return "";
}

std::vector<MeasuredRow> measure_points(const std::vector<ValidationPoint>& points, const MeasureOptions& opts) {
  if (opts.passes < 1) throw std::invalid_argument("measure_points: passes must be >= 1");
  const std::string gpu = cuda::device_info(0).name, cpu = cpu_name(), date = utc_now();
  std::vector<const ValidationPoint*> fits;
  for (const ValidationPoint& p : points) {
    const double avail = mem_available_bytes();
    // A decode step's layers read distinct copies of the pool (kernels/hybrid ModelStep, whose pool_ring_bytes
    // measure_decode_step leaves at its default, the one layer_pool_copies assumes).
    const double host = p.pool_bytes() * (p.kind == PointKind::DecodeStep ? layer_pool_copies(p.layers, p.pool_bytes()) : 1);
    if (p.pool_bytes() > kMaxPoolBytes || (avail > 0 && host > opts.host_memory_share * avail)) {
      if (opts.log)
        *opts.log << "point " << p.id << ": skipped, " << (host > p.pool_bytes() ? "the copies of its CPU pool (" : "its CPU pool (")
                  << host / 1e9 << " GB) exceed the host memory it may use\n";
      continue;
    }
    fits.push_back(&p);
  }
  std::vector<Samples> samples(fits.size());
  const auto rows_after = [&](int passes_done) {
    std::vector<MeasuredRow> table;
    for (std::size_t i = 0; i < fits.size(); ++i) {
      MeasuredRow row;
      row.point = *fits[i];
      row.gpu = gpu;
      row.cpu = cpu;
      row.date = date;
      samples[i].store(row);
      const Repetitions rep = repetitions_for(row.point.kind);
      row.warmup = rep.warmup;
      row.reps = rep.reps * passes_done;
      table.push_back(std::move(row));
    }
    return table;
  };
  std::vector<MeasuredRow> rows;
  const auto start = std::chrono::steady_clock::now();
  for (int pass = 0; pass < opts.passes; ++pass) {
    for (std::size_t i = 0; i < fits.size(); ++i) {
      const ValidationPoint& p = *fits[i];
      const auto t0 = std::chrono::steady_clock::now();
      const std::size_t before = samples[i].total.size();
      if (p.kind == PointKind::Attention) measure_attention(p, opts, samples[i]);
      else measure_decode_step(p, opts, samples[i]);
      const std::vector<double> mine(samples[i].total.begin() + static_cast<std::ptrdiff_t>(before), samples[i].total.end());
      samples[i].pass.push_back(median_of(mine));
      if (opts.log) {
        char buf[288];
        std::snprintf(buf, sizeof buf,
                      "pass %d/%d point %3d/%zu %-11s %-7s b=%-3d ctx=%-6lld win=%-5lld sel=%-6lld t=%-2d %-8s %9.4f ms  (%.1f s, %.0f s total)\n",
                      pass + 1, opts.passes, p.id, points.size(), to_string(p.kind), to_string(p.role), p.batch,
                      static_cast<long long>(p.context), static_cast<long long>(p.window), static_cast<long long>(p.cpu_select),
                      p.threads, p.cpu_task.c_str(), samples[i].pass.back(),
                      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        *opts.log << buf << std::flush;
      }
    }
    rows = rows_after(pass + 1);
    if (opts.after_pass) opts.after_pass(pass + 1, rows);
  }
  return rows;
}

#else

std::string measure_unavailable() {
  return "this hgca was built without CUDA (HGCA_CUDA=OFF or no nvcc found), so it has no hybrid runner to measure";
}

std::vector<MeasuredRow> measure_points(const std::vector<ValidationPoint>&, const MeasureOptions&) {
  throw std::runtime_error(measure_unavailable());
}

#endif

}  // namespace hgca::validation
