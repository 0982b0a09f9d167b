// Small hand-made configurations for tests that must not depend on the YAML layer.
#pragma once

#include "sim/config/experiment.hpp"

namespace hgca::test {

// Round numbers so hand computations are exact: 1 TB/s HBM, 100 TFLOP/s, 50 GB/s each way with 5 us
// latency, no duplex cap, cores reading 10 GB/s each with no saturation up to 8.
inline HardwareProfile simple_hardware() {
  HardwareProfile h;
  h.name = "test-hw";
  h.gpu.name = "test-gpu";
  h.gpu.memory_bytes = 80e9;
  h.gpu.reserved_bytes = 0;
  h.gpu.hbm_bandwidth = 1e12;
  h.gpu.hbm_efficiency = 1.0;
  h.gpu.matmul_flops = 100e12;
  h.gpu.matmul_efficiency = 1.0;
  h.gpu.vector_flops = 10e12;
  h.gpu.kernel_launch_s = 0;
  h.gpu.kernel_min_s = 0;
  h.pcie.h2d = {50e9, 5e-6};
  h.pcie.d2h = {50e9, 5e-6};
  h.pcie.duplex_bandwidth = 0;
  h.pcie.pageable_bandwidth = 10e9;
  h.pcie.copy_engines_per_direction = 1;
  h.cpu.name = "test-cpu";
  h.cpu.cores = 8;
  h.cpu.memory_bytes = 512e9;
  h.cpu.bandwidth_by_threads = {{1, 10e9}, {8, 80e9}};
  h.cpu.flops_per_core = 1e15;  // never the bound unless a test wants it
  h.cpu.task_overhead_s = 0;
  h.cpu.wakeup_s = 0;
  h.cpu.gather_efficiency = 1.0;
  return h;
}

inline ModelShape tiny_model(int layers = 1) {
  ModelShape m;
  m.name = "tiny";
  m.layers = layers;
  m.q_heads = 8;
  m.kv_heads = 2;
  m.head_dim = 128;
  m.hidden = 1024;
  m.intermediate = 4096;
  m.vocab = 32000;
  m.weight_bytes_per_param = 2;
  m.kv_bytes_per_elem = 2;
  return m;
}

inline Experiment simple_experiment(const std::string& strategy, int batch, int64_t prompt, int64_t decode) {
  Experiment e;
  e.name = "test";
  e.hardware = simple_hardware();
  e.model = tiny_model();
  e.workload.batch = batch;
  e.workload.prompt = prompt;
  e.workload.decode = decode;
  e.workload.simulate_prefill = false;
  e.system.strategy = strategy;
  e.system.window = 1024;
  e.system.sinks = 0;
  e.system.eviction_batch = 64;
  e.system.selection.source = SelectionSource::Fraction;
  e.system.selection.fraction = 0.05;
  return e;
}

}  // namespace hgca::test
