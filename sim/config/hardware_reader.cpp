#include <algorithm>
#include <cmath>

#include "sim/config/map_reader.hpp"
#include "sim/config/readers.hpp"
#include "sim/config/units.hpp"

namespace hgca::cfg {
namespace {

void require_positive(const MapReader& r, std::string_view key, double value, const std::string& shown,
                      std::string_view expected) {
  r.check(value > 0, key, "must be positive, got " + quote(shown), expected);
}

void require_non_negative(const MapReader& r, std::string_view key, double value, const std::string& shown,
                          std::string_view expected) {
  r.check(value >= 0, key, "must not be negative, got " + quote(shown), expected);
}

double efficiency(const MapReader& r, std::string_view key) {
  const double value = r.real(key, 1.0);
  r.check(value > 0 && value <= 1, key, "must lie in (0, 1], got " + format_number(value), "a share such as 0.85");
  return value;
}

GpuSpec read_gpu(const MapReader& r) {
  GpuSpec gpu;
  gpu.name = r.text("name", "");
  gpu.memory_bytes = r.bytes("memory");
  require_positive(r, "memory", gpu.memory_bytes, format_bytes(gpu.memory_bytes), "a capacity such as '80 GiB'");
  gpu.reserved_bytes = r.bytes("reserved", 0.0);
  require_non_negative(r, "reserved", gpu.reserved_bytes, format_bytes(gpu.reserved_bytes), "a size such as '2.5 GiB'");
  r.check(gpu.reserved_bytes < gpu.memory_bytes, "reserved",
          "reserves all of the " + format_bytes(gpu.memory_bytes) + " of GPU memory", "less than gpu.memory");
  gpu.hbm_bandwidth = r.bandwidth("hbm_bandwidth");
  require_positive(r, "hbm_bandwidth", gpu.hbm_bandwidth, format_bandwidth(gpu.hbm_bandwidth),
                   "a bandwidth such as '3.08 TB/s'");
  gpu.hbm_efficiency = efficiency(r, "hbm_efficiency");
  gpu.matmul_flops = r.flop_rate("matmul_flops");
  require_positive(r, "matmul_flops", gpu.matmul_flops, format_flop_rate(gpu.matmul_flops),
                   "a FLOP rate such as '989 TFLOP/s'");
  gpu.matmul_efficiency = efficiency(r, "matmul_efficiency");
  gpu.vector_flops = r.flop_rate("vector_flops");
  require_positive(r, "vector_flops", gpu.vector_flops, format_flop_rate(gpu.vector_flops),
                   "a FLOP rate such as '67 TFLOP/s'");
  gpu.kernel_launch_s = r.duration("kernel_launch");
  require_non_negative(r, "kernel_launch", gpu.kernel_launch_s, format_duration(gpu.kernel_launch_s),
                       "a duration such as '3.5 us'");
  gpu.kernel_min_s = r.duration("kernel_min");
  require_non_negative(r, "kernel_min", gpu.kernel_min_s, format_duration(gpu.kernel_min_s),
                       "a duration such as '2 us'");
  for (auto [key, field] : {std::pair{"attention_fixed", &gpu.attention_fixed_s}, std::pair{"gemm_fixed", &gpu.gemm_fixed_s},
                            std::pair{"vector_fixed", &gpu.vector_fixed_s}}) {
    *field = r.duration(key, 0.0);
    require_non_negative(r, key, *field, format_duration(*field), "a duration such as '20 us', or 0");
  }
  return gpu;
}

LinkDirectionSpec read_direction(const MapReader& r) {
  LinkDirectionSpec d;
  d.bandwidth = r.bandwidth("bandwidth");
  require_positive(r, "bandwidth", d.bandwidth, format_bandwidth(d.bandwidth), "a bandwidth such as '55 GB/s'");
  d.latency_s = r.duration("latency");
  require_non_negative(r, "latency", d.latency_s, format_duration(d.latency_s), "a duration such as '4.7 us'");
  return d;
}

PcieSpec read_pcie(const MapReader& r) {
  PcieSpec pcie;
  pcie.h2d = read_direction(r.child("h2d", {"bandwidth", "latency"}));
  pcie.d2h = read_direction(r.child("d2h", {"bandwidth", "latency"}));
  pcie.duplex_bandwidth = r.bandwidth("duplex_bandwidth", 0.0);
  require_non_negative(r, "duplex_bandwidth", pcie.duplex_bandwidth, format_bandwidth(pcie.duplex_bandwidth),
                       "a bandwidth, or 0 for no cap");
  // A cap below one direction alone would contradict that direction's own figure.
  const double one_way = std::max(pcie.h2d.bandwidth, pcie.d2h.bandwidth);
  r.check(pcie.duplex_bandwidth == 0 || pcie.duplex_bandwidth >= one_way, "duplex_bandwidth",
          "cap " + format_bandwidth(pcie.duplex_bandwidth) + " is below the single-direction bandwidth " +
              format_bandwidth(one_way),
          "0 (no cap) or at least the larger of h2d.bandwidth and d2h.bandwidth");
  pcie.pageable_bandwidth = r.bandwidth("pageable_bandwidth");
  require_positive(r, "pageable_bandwidth", pcie.pageable_bandwidth, format_bandwidth(pcie.pageable_bandwidth),
                   "a bandwidth such as '9.7 GB/s'");
  pcie.copy_engines_per_direction = r.small_integer("copy_engines_per_direction", 1);
  r.check(pcie.copy_engines_per_direction >= 1, "copy_engines_per_direction",
          "must be at least 1, got " + std::to_string(pcie.copy_engines_per_direction), "a count such as 1");
  return pcie;
}

// {threads: bandwidth, …}, threads strictly ascending.
std::vector<std::pair<int, double>> read_bandwidth_curve(const MapReader& cpu, std::string_view key, bool required) {
  constexpr std::string_view expected =
      "a map {threads: bandwidth} ascending by threads, e.g. {1: 12.3 GB/s, 16: 104.2 GB/s}";
  const Node* curve = cpu.find(key);
  if (!curve && !required) return {};
  if (!curve) cpu.fail(key, "missing required key", expected);
  const std::string path = cpu.key_path(key);
  if (!curve->is_map()) fail(curve->origin, path, std::string("got ") + kind_name(curve->kind), expected);
  if (curve->entries.empty()) fail(curve->origin, path, "empty", expected);
  std::vector<std::pair<int, double>> points;
  for (const Node::Entry& e : curve->entries) {
    const std::string point_path = path + "." + e.key;
    const int64_t threads = integer_of(scalar_node(e.key, e.key_origin), point_path);
    if (threads < 1 || threads > 1'000'000)
      fail(e.key_origin, point_path, "thread count must be at least 1, got " + e.key, expected);
    if (!points.empty() && threads <= points.back().first)
      fail(e.key_origin, point_path,
           "not ascending: " + e.key + " threads comes after " + std::to_string(points.back().first), expected);
    const double bandwidth = quantity_of(e.value, point_path, parse_bandwidth);
    if (bandwidth <= 0)
      fail(e.value.origin, point_path, "must be positive, got " + quote(format_bandwidth(bandwidth)), expected);
    points.emplace_back(int(threads), bandwidth);
  }
  return points;
}

CpuSpec read_cpu(const MapReader& r) {
  CpuSpec cpu;
  cpu.name = r.text("name", "");
  cpu.cores = r.small_integer("cores");
  r.check(cpu.cores >= 1, "cores", "must be at least 1, got " + std::to_string(cpu.cores), "a core count such as 16");
  cpu.sockets = r.small_integer("sockets", 1);
  r.check(cpu.sockets >= 1, "sockets", "must be at least 1, got " + std::to_string(cpu.sockets), "a count such as 1");
  cpu.memory_bytes = r.bytes("memory");
  require_positive(r, "memory", cpu.memory_bytes, format_bytes(cpu.memory_bytes), "a capacity such as '125 GiB'");
  cpu.bandwidth_by_threads = read_bandwidth_curve(r, "bandwidth_by_threads", true);
  cpu.socket_bandwidth_by_threads = read_bandwidth_curve(r, "socket_bandwidth_by_threads", false);
  r.check(cpu.socket_bandwidth_by_threads.empty() || (cpu.sockets > 1 && cpu.cores % cpu.sockets == 0),
          "socket_bandwidth_by_threads",
          "needs sockets > 1 dividing cores evenly (got " + std::to_string(cpu.cores) + " cores on " +
              std::to_string(cpu.sockets) + " sockets)",
          "cpu.sockets >= 2 with cores a multiple of sockets, or no per-socket curve");
  cpu.flops_per_core = r.flop_rate("flops_per_core");
  require_positive(r, "flops_per_core", cpu.flops_per_core, format_flop_rate(cpu.flops_per_core),
                   "a FLOP rate such as '100 GFLOP/s'");
  cpu.task_overhead_s = r.duration("task_overhead");
  require_non_negative(r, "task_overhead", cpu.task_overhead_s, format_duration(cpu.task_overhead_s),
                       "a duration such as '1 us'");
  cpu.wakeup_s = r.duration("wakeup");
  require_non_negative(r, "wakeup", cpu.wakeup_s, format_duration(cpu.wakeup_s), "a duration such as '5 us'");
  cpu.wakeup_stagger_s = r.duration("wakeup_stagger", 0.0);
  require_non_negative(r, "wakeup_stagger", cpu.wakeup_stagger_s, format_duration(cpu.wakeup_stagger_s),
                       "a duration such as '2 us'");
  cpu.gather_efficiency = efficiency(r, "gather_efficiency");
  cpu.row_cost_s = r.duration("row_cost", 0.0);
  require_non_negative(r, "row_cost", cpu.row_cost_s, format_duration(cpu.row_cost_s), "a duration such as '20 ns'");
  cpu.select_key_cost_s = r.duration("select_key_cost", 0.0);
  require_non_negative(r, "select_key_cost", cpu.select_key_cost_s, format_duration(cpu.select_key_cost_s),
                       "a duration such as '2 ns'");
  cpu.llc_bytes = r.bytes("llc_bytes", 0.0);
  r.check(std::isfinite(cpu.llc_bytes) && cpu.llc_bytes >= 0, "llc_bytes",
          "must be a size of at least 0, got " + quote(format_bytes(cpu.llc_bytes)),
          "a size such as '300 MB', or 0 for no cache model");
  cpu.llc_bandwidth_factor = r.real("llc_bandwidth_factor", 1.0);
  r.check(std::isfinite(cpu.llc_bandwidth_factor) && cpu.llc_bandwidth_factor > 0, "llc_bandwidth_factor",
          "must be a positive number, got " + format_number(cpu.llc_bandwidth_factor), "a factor such as 1.8");
  cpu.llc_residency_s = r.duration("llc_residency", 0.0);
  require_non_negative(r, "llc_residency", cpu.llc_residency_s, format_duration(cpu.llc_residency_s),
                       "a duration such as '2 ms', or 0 for a cache that serves only the KV");
  return cpu;
}

HostSpec read_host(const MapReader& r) {
  HostSpec host;
  host.framework_op_s = r.duration("framework_op", 0.0);
  require_non_negative(r, "framework_op", host.framework_op_s, format_duration(host.framework_op_s),
                       "a duration such as '20 us'");
  host.framework_step_s = r.duration("framework_step", 0.0);
  require_non_negative(r, "framework_step", host.framework_step_s, format_duration(host.framework_step_s),
                       "a duration such as '2 ms'");
  host.sync_s = r.duration("sync", 0.0);
  require_non_negative(r, "sync", host.sync_s, format_duration(host.sync_s), "a duration such as '10 us'");
  host.after_cpu_max_s = r.duration("after_cpu_max", 0.0);
  require_non_negative(r, "after_cpu_max", host.after_cpu_max_s, format_duration(host.after_cpu_max_s),
                       "a duration such as '30 us'");
  host.after_cpu_time_s = r.duration("after_cpu_time", 1e-3);
  r.check(std::isfinite(host.after_cpu_time_s) && host.after_cpu_time_s > 0, "after_cpu_time",
          "must be a positive duration, got " + format_duration(host.after_cpu_time_s), "a duration such as '3 ms'");
  host.shares_cpu_core = r.flag("shares_cpu_core", false);
  return host;
}

}  // namespace

HardwareProfile read_hardware(const Node& doc, const std::string& path, const std::string& default_name) {
  const MapReader r(doc, path, {"name", "calibrated", "source", "machine", "gpu", "pcie", "cpu", "host"});
  HardwareProfile hw;
  hw.name = r.text("name", default_name);
  hw.source = r.text("source", "");
  hw.calibrated = r.flag("calibrated", false);
  const MapReader m = r.optional_child("machine", {"gpu", "driver", "cuda_runtime", "cpu", "host", "date"});
  hw.machine = {m.text("gpu", ""), m.text("driver", ""), m.text("cuda_runtime", ""),
                m.text("cpu", ""),  m.text("host", ""),   m.text("date", "")};
  hw.gpu = read_gpu(r.child("gpu", {"name", "memory", "reserved", "hbm_bandwidth", "hbm_efficiency", "matmul_flops",
                                    "matmul_efficiency", "vector_flops", "kernel_launch", "kernel_min",
                                    "attention_fixed", "gemm_fixed", "vector_fixed"}));
  hw.pcie = read_pcie(
      r.child("pcie", {"h2d", "d2h", "duplex_bandwidth", "pageable_bandwidth", "copy_engines_per_direction"}));
  hw.cpu = read_cpu(r.child("cpu", {"name", "cores", "sockets", "memory", "bandwidth_by_threads", "flops_per_core",
                                    "task_overhead", "wakeup", "wakeup_stagger", "gather_efficiency", "row_cost", "select_key_cost",
                                    "socket_bandwidth_by_threads", "llc_bytes", "llc_bandwidth_factor", "llc_residency"}));
  hw.host = read_host(r.optional_child("host", {"framework_op", "framework_step", "sync", "after_cpu_max", "after_cpu_time",
                                                            "shares_cpu_core"}));
  return hw;
}

}  // namespace hgca::cfg
