#include "sim/config/yaml_writer.hpp"

#include <yaml-cpp/yaml.h>

#include "sim/config/names.hpp"
#include "sim/config/units.hpp"

namespace hgca {
namespace {

// yaml-cpp writes string_view poorly; every value goes out as a std::string.
template <class V>
void put(YAML::Emitter& out, const char* key, const V& value) {
  out << YAML::Key << key << YAML::Value << value;
}
void put(YAML::Emitter& out, const char* key, std::string_view value) { put(out, key, std::string(value)); }

void emit_hardware(YAML::Emitter& out, const HardwareProfile& hw) {
  out << YAML::BeginMap;
  put(out, "name", hw.name);
  put(out, "calibrated", hw.calibrated);
  put(out, "source", hw.source);
  if (!hw.machine.empty()) {
    const MachineStamp& m = hw.machine;
    out << YAML::Key << "machine" << YAML::Value << YAML::BeginMap;
    put(out, "gpu", m.gpu);
    put(out, "driver", m.driver);
    put(out, "cuda_runtime", m.cuda_runtime);
    put(out, "cpu", m.cpu);
    put(out, "host", m.host);
    put(out, "date", m.date);
    out << YAML::EndMap;
  }

  const GpuSpec& g = hw.gpu;
  out << YAML::Key << "gpu" << YAML::Value << YAML::BeginMap;
  put(out, "name", g.name);
  put(out, "memory", format_bytes(g.memory_bytes));
  put(out, "reserved", format_bytes(g.reserved_bytes));
  put(out, "hbm_bandwidth", format_bandwidth(g.hbm_bandwidth));
  put(out, "hbm_efficiency", format_number(g.hbm_efficiency));
  put(out, "matmul_flops", format_flop_rate(g.matmul_flops));
  put(out, "matmul_efficiency", format_number(g.matmul_efficiency));
  put(out, "vector_flops", format_flop_rate(g.vector_flops));
  put(out, "kernel_launch", format_duration(g.kernel_launch_s));
  put(out, "kernel_min", format_duration(g.kernel_min_s));
  // The fixed per-kernel costs only when set: a profile without them reads back the same (they default to 0).
  if (g.attention_fixed_s > 0) put(out, "attention_fixed", format_duration(g.attention_fixed_s));
  if (g.gemm_fixed_s > 0) put(out, "gemm_fixed", format_duration(g.gemm_fixed_s));
  if (g.vector_fixed_s > 0) put(out, "vector_fixed", format_duration(g.vector_fixed_s));
  out << YAML::EndMap;

  const PcieSpec& p = hw.pcie;
  out << YAML::Key << "pcie" << YAML::Value << YAML::BeginMap;
  for (auto [key, d] : {std::pair{"h2d", &p.h2d}, std::pair{"d2h", &p.d2h}}) {
    out << YAML::Key << key << YAML::Value << YAML::Flow << YAML::BeginMap;
    put(out, "bandwidth", format_bandwidth(d->bandwidth));
    put(out, "latency", format_duration(d->latency_s));
    out << YAML::EndMap;
  }
  put(out, "duplex_bandwidth", format_bandwidth(p.duplex_bandwidth));
  put(out, "pageable_bandwidth", format_bandwidth(p.pageable_bandwidth));
  put(out, "copy_engines_per_direction", p.copy_engines_per_direction);
  out << YAML::EndMap;

  const CpuSpec& c = hw.cpu;
  out << YAML::Key << "cpu" << YAML::Value << YAML::BeginMap;
  put(out, "name", c.name);
  put(out, "cores", c.cores);
  put(out, "sockets", c.sockets);
  put(out, "memory", format_bytes(c.memory_bytes));
  out << YAML::Key << "bandwidth_by_threads" << YAML::Value << YAML::Flow << YAML::BeginMap;
  for (const auto& [threads, bandwidth] : c.bandwidth_by_threads)
    put(out, std::to_string(threads).c_str(), format_bandwidth(bandwidth));
  out << YAML::EndMap;
  put(out, "flops_per_core", format_flop_rate(c.flops_per_core));
  put(out, "task_overhead", format_duration(c.task_overhead_s));
  put(out, "wakeup", format_duration(c.wakeup_s));
  if (c.wakeup_stagger_s > 0) put(out, "wakeup_stagger", format_duration(c.wakeup_stagger_s));
  put(out, "gather_efficiency", format_number(c.gather_efficiency));
  // Only when set: a profile without it reads back the same (it defaults to 0).
  if (c.row_cost_s > 0) put(out, "row_cost", format_duration(c.row_cost_s));
  if (c.select_key_cost_s > 0) put(out, "select_key_cost", format_duration(c.select_key_cost_s));
  if (c.llc_bytes > 0) put(out, "llc_bytes", format_bytes(c.llc_bytes));
  if (c.llc_bandwidth_factor != 1) put(out, "llc_bandwidth_factor", format_number(c.llc_bandwidth_factor));
  if (c.llc_residency_s > 0) put(out, "llc_residency", format_duration(c.llc_residency_s));
  if (!c.socket_bandwidth_by_threads.empty()) {
    out << YAML::Key << "socket_bandwidth_by_threads" << YAML::Value << YAML::Flow << YAML::BeginMap;
    for (const auto& [threads, bandwidth] : c.socket_bandwidth_by_threads)
      put(out, std::to_string(threads).c_str(), format_bandwidth(bandwidth));
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
  const HostSpec& h = hw.host;
  out << YAML::Key << "host" << YAML::Value << YAML::BeginMap;
  put(out, "framework_op", format_duration(h.framework_op_s));
  put(out, "framework_step", format_duration(h.framework_step_s));
  if (h.sync_s > 0) put(out, "sync", format_duration(h.sync_s));  // only when set: older profiles read back the same
  if (h.after_cpu_max_s > 0) {  // only when set, as sync
    put(out, "after_cpu_max", format_duration(h.after_cpu_max_s));
    put(out, "after_cpu_time", format_duration(h.after_cpu_time_s));
  }
  put(out, "shares_cpu_core", h.shares_cpu_core);
  out << YAML::EndMap;
  out << YAML::EndMap;
}

void emit_model(YAML::Emitter& out, const ModelShape& m) {
  out << YAML::BeginMap;
  put(out, "name", m.name);
  put(out, "source", m.source);
  put(out, "layers", m.layers);
  put(out, "q_heads", m.q_heads);
  put(out, "kv_heads", m.kv_heads);
  put(out, "head_dim", m.head_dim);
  put(out, "hidden", m.hidden);
  put(out, "intermediate", m.intermediate);
  put(out, "vocab", m.vocab);
  put(out, "gated_mlp", m.gated_mlp);
  put(out, "tied_embeddings", m.tied_embeddings);
  put(out, "weight_dtype", m.weight_dtype);  // the *_bytes_per_* fields follow from the dtypes
  put(out, "kv_dtype", m.kv_dtype);
  out << YAML::EndMap;
}

void emit_workload(YAML::Emitter& out, const WorkloadSpec& w) {
  out << YAML::BeginMap;
  if (w.requests.empty()) {
    put(out, "batch", w.batch);
    put(out, "prompt", w.prompt);
    put(out, "decode", w.decode);
  } else {
    out << YAML::Key << "requests" << YAML::Value << YAML::BeginSeq;
    for (const RequestSpec& q : w.requests) {
      out << YAML::Flow << YAML::BeginMap;
      put(out, "prompt", q.prompt);
      put(out, "decode", q.decode);
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  put(out, "prefill_chunk", w.prefill_chunk);
  put(out, "simulate_prefill", w.simulate_prefill);
  out << YAML::EndMap;
}

void emit_system(YAML::Emitter& out, const SystemSpec& s) {
  out << YAML::BeginMap;
  put(out, "strategy", s.strategy);
  put(out, "window", s.window);
  put(out, "sinks", s.sinks);
  put(out, "eviction_batch", s.eviction_batch);
  const SelectionSpec& sel = s.selection;
  out << YAML::Key << "selection" << YAML::Value << YAML::BeginMap;
  put(out, "source", to_string(sel.source));
  put(out, "fraction", format_number(sel.fraction));
  put(out, "top_k", sel.top_k);
  put(out, "median_fraction", format_number(sel.median_fraction));
  put(out, "sigma", format_number(sel.sigma));
  put(out, "min_fraction", format_number(sel.min_fraction));
  put(out, "max_fraction", format_number(sel.max_fraction));
  if (!sel.profile_path.empty()) put(out, "path", sel.profile_path);
  put(out, "granularity", to_string(sel.granularity));
  out << YAML::EndMap;
  put(out, "selection_method", to_string(s.selection_method));
  put(out, "summary_block", s.summary_block);
  put(out, "reselect_interval", s.reselect_interval);
  put(out, "cpu_threads", s.cpu_threads);
  put(out, "cpu_schedule", to_string(s.cpu_schedule));
  put(out, "cpu_task", to_string(s.cpu_task));
  put(out, "prefetch_layers", s.prefetch_layers);
  put(out, "pinned", s.pinned);
  put(out, "activation_tokens", s.activation_tokens);
  put(out, "weights_on_gpu", format_number(s.weights_on_gpu));
  put(out, "overlap_io", s.overlap_io);
  put(out, "attention_only", s.attention_only);
  put(out, "preset", to_string(s.preset));
  const PaperSpec& p = s.paper;
  out << YAML::Key << "paper" << YAML::Value << YAML::BeginMap;
  put(out, "block_size", p.block_size);
  put(out, "gpu_blocks", p.gpu_blocks);
  put(out, "recall_blocks", p.recall_blocks);
  put(out, "alpha", format_number(p.alpha));
  put(out, "beta", format_number(p.beta));
  put(out, "head_groups", p.head_groups);
  put(out, "keep_min", p.keep_min);
  put(out, "selection", to_string(p.selection));
  put(out, "threshold_over", to_string(p.threshold_over));
  put(out, "recall_reload", p.recall_reload);
  put(out, "framework_copies", p.framework_copies);
  out << YAML::EndMap;
  out << YAML::Key << "h2o" << YAML::Value << YAML::Flow << YAML::BeginMap;
  put(out, "budget", format_number(s.h2o.budget));
  put(out, "heavy_share", format_number(s.h2o.heavy_share));
  out << YAML::EndMap;
  out << YAML::Key << "infinigen" << YAML::Value << YAML::Flow << YAML::BeginMap;
  put(out, "budget", format_number(s.infinigen.budget));
  put(out, "partial_ratio", format_number(s.infinigen.partial_ratio));
  out << YAML::EndMap;
  out << YAML::Key << "flexgen" << YAML::Value << YAML::Flow << YAML::BeginMap;
  put(out, "cpu_attention", s.flexgen.cpu_attention);
  put(out, "kv_on_gpu", format_number(s.flexgen.kv_on_gpu));
  out << YAML::EndMap;
  out << YAML::EndMap;
}

std::string finish(const YAML::Emitter& out) { return std::string(out.c_str()) + "\n"; }

}  // namespace

std::string hardware_to_yaml(const HardwareProfile& hardware) {
  YAML::Emitter out;
  emit_hardware(out, hardware);
  return finish(out);
}

std::string model_to_yaml(const ModelShape& model) {
  YAML::Emitter out;
  emit_model(out, model);
  return finish(out);
}

std::string experiment_to_yaml(const Experiment& e) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  put(out, "name", e.name);
  put(out, "description", e.description);
  put(out, "seed", e.seed);
  out << YAML::Key << "hardware" << YAML::Value;
  emit_hardware(out, e.hardware);
  out << YAML::Key << "model" << YAML::Value;
  emit_model(out, e.model);
  out << YAML::Key << "workload" << YAML::Value;
  emit_workload(out, e.workload);
  out << YAML::Key << "system" << YAML::Value;
  emit_system(out, e.system);
  out << YAML::EndMap;
  std::string header = "# Resolved configuration of experiment " + e.name;
  if (!e.point_label.empty()) header += ", sweep point: " + e.point_label;
  if (!e.source_file.empty()) header += " (from " + e.source_file + ")";
  for (char& c : header)
    if (c == '\n') c = ' ';
  return header + "\n" + finish(out);
}

}  // namespace hgca
