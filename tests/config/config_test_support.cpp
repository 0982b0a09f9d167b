#include "config_test_support.hpp"

#include <stdlib.h>

#include <fstream>
#include <sstream>
#include <vector>

namespace hgca::testing {

// Line numbers are asserted by the tests: keep the order.
const char* const kHardwareYaml =
    "name: test-hw\n"                                                         // 1
    "calibrated: false\n"                                                     // 2
    "source: \"unit test\"\n"                                                 // 3
    "gpu:\n"                                                                  // 4
    "  name: Test GPU\n"                                                      // 5
    "  memory: 80 GiB\n"                                                      // 6
    "  reserved: 2.5 GiB\n"                                                   // 7
    "  hbm_bandwidth: 3 TB/s\n"                                               // 8
    "  hbm_efficiency: 0.85\n"                                                // 9
    "  matmul_flops: 989 TFLOP/s\n"                                           // 10
    "  matmul_efficiency: 0.6\n"                                              // 11
    "  vector_flops: 67 TFLOP/s\n"                                            // 12
    "  kernel_launch: 3.5 us\n"                                               // 13
    "  kernel_min: 2 us\n"                                                    // 14
    "pcie:\n"                                                                 // 15
    "  h2d: {bandwidth: 55 GB/s, latency: 4.7 us}\n"                          // 16
    "  d2h: {bandwidth: 55.1 GB/s, latency: 4 us}\n"                          // 17
    "  duplex_bandwidth: 99.5 GB/s\n"                                         // 18
    "  pageable_bandwidth: 9.7 GB/s\n"                                        // 19
    "  copy_engines_per_direction: 1\n"                                       // 20
    "cpu:\n"                                                                  // 21
    "  name: Test CPU\n"                                                      // 22
    "  cores: 16\n"                                                           // 23
    "  sockets: 1\n"                                                          // 24
    "  memory: 125 GiB\n"                                                     // 25
    "  bandwidth_by_threads: {1: 12.3 GB/s, 4: 42.6 GB/s, 16: 104.2 GB/s}\n"  // 26
    "  flops_per_core: 100 GFLOP/s\n"                                         // 27
    "  task_overhead: 1 us\n"                                                 // 28
    "  wakeup: 5 us\n"                                                        // 29
    "  gather_efficiency: 0.8\n";                                             // 30

const char* const kModelYaml =
    "name: test-model\n"       // 1
    "source: \"unit test\"\n"  // 2
    "layers: 32\n"             // 3
    "q_heads: 32\n"            // 4
    "kv_heads: 8\n"            // 5
    "head_dim: 128\n"          // 6
    "hidden: 4096\n"           // 7
    "intermediate: 14336\n"    // 8
    "vocab: 128256\n"          // 9
    "weight_dtype: bf16\n"     // 10
    "kv_dtype: fp16\n";        // 11

const char* const kExperimentYaml =
    "name: quick\n"                                                               // 1
    "description: \"a test\"\n"                                                   // 2
    "hardware: test-hw\n"                                                         // 3
    "model: test-model\n"                                                         // 4
    "seed: 7\n"                                                                   // 5
    "workload:\n"                                                                 // 6
    "  batch: 8\n"                                                                // 7
    "  prompt: 32768\n"                                                           // 8
    "  decode: 64\n"                                                              // 9
    "  prefill_chunk: 4096\n"                                                     // 10
    "  simulate_prefill: true\n"                                                  // 11
    "system:\n"                                                                   // 12
    "  strategy: hgca\n"                                                          // 13
    "  window: 4096\n"                                                            // 14
    "  sinks: 4\n"                                                                // 15
    "  eviction_batch: 64\n"                                                      // 16
    "  selection: {source: fraction, fraction: 0.05, granularity: query-head}\n"  // 17
    "  selection_method: key-scan\n"                                              // 18
    "  summary_block: 16\n"                                                       // 19
    "  reselect_interval: 8\n"                                                    // 20
    "  cpu_threads: 0\n"                                                          // 21
    "  cpu_schedule: dynamic\n"                                                   // 22
    "  cpu_task: head\n"                                                          // 23
    "  prefetch_layers: 1\n"                                                      // 24
    "  pinned: true\n"                                                            // 25
    "  activation_tokens: 0\n";                                                   // 26

std::string write_project(const ScratchDir& dir, const std::string& experiment_text) {
  dir.write("configs/hw/test-hw.yaml", kHardwareYaml);
  dir.write("configs/models/test-model.yaml", kModelYaml);
  return dir.write("experiments/exp.yaml", experiment_text);
}

void expect_same_point(const Experiment& a, const Experiment& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.description, b.description);
  EXPECT_EQ(a.seed, b.seed);
  const HardwareProfile &ha = a.hardware, &hb = b.hardware;
  EXPECT_EQ(ha.name, hb.name);
  EXPECT_EQ(ha.source, hb.source);
  EXPECT_EQ(ha.calibrated, hb.calibrated);
  EXPECT_EQ(ha.gpu.name, hb.gpu.name);
  EXPECT_EQ(ha.gpu.memory_bytes, hb.gpu.memory_bytes);
  EXPECT_EQ(ha.gpu.reserved_bytes, hb.gpu.reserved_bytes);
  EXPECT_EQ(ha.gpu.hbm_bandwidth, hb.gpu.hbm_bandwidth);
  EXPECT_EQ(ha.gpu.hbm_efficiency, hb.gpu.hbm_efficiency);
  EXPECT_EQ(ha.gpu.matmul_flops, hb.gpu.matmul_flops);
  EXPECT_EQ(ha.gpu.matmul_efficiency, hb.gpu.matmul_efficiency);
  EXPECT_EQ(ha.gpu.vector_flops, hb.gpu.vector_flops);
  EXPECT_EQ(ha.gpu.kernel_launch_s, hb.gpu.kernel_launch_s);
  EXPECT_EQ(ha.gpu.kernel_min_s, hb.gpu.kernel_min_s);
  EXPECT_EQ(ha.pcie.h2d.bandwidth, hb.pcie.h2d.bandwidth);
  EXPECT_EQ(ha.pcie.h2d.latency_s, hb.pcie.h2d.latency_s);
  EXPECT_EQ(ha.pcie.d2h.bandwidth, hb.pcie.d2h.bandwidth);
  EXPECT_EQ(ha.pcie.d2h.latency_s, hb.pcie.d2h.latency_s);
  EXPECT_EQ(ha.pcie.duplex_bandwidth, hb.pcie.duplex_bandwidth);
  EXPECT_EQ(ha.pcie.pageable_bandwidth, hb.pcie.pageable_bandwidth);
  EXPECT_EQ(ha.pcie.copy_engines_per_direction, hb.pcie.copy_engines_per_direction);
  EXPECT_EQ(ha.cpu.name, hb.cpu.name);
  EXPECT_EQ(ha.cpu.cores, hb.cpu.cores);
  EXPECT_EQ(ha.cpu.sockets, hb.cpu.sockets);
  EXPECT_EQ(ha.cpu.memory_bytes, hb.cpu.memory_bytes);
  EXPECT_EQ(ha.cpu.bandwidth_by_threads, hb.cpu.bandwidth_by_threads);
  EXPECT_EQ(ha.cpu.flops_per_core, hb.cpu.flops_per_core);
  EXPECT_EQ(ha.cpu.task_overhead_s, hb.cpu.task_overhead_s);
  EXPECT_EQ(ha.cpu.wakeup_s, hb.cpu.wakeup_s);
  EXPECT_EQ(ha.cpu.wakeup_stagger_s, hb.cpu.wakeup_stagger_s);
  EXPECT_EQ(ha.cpu.gather_efficiency, hb.cpu.gather_efficiency);
  EXPECT_EQ(ha.cpu.socket_bandwidth_by_threads, hb.cpu.socket_bandwidth_by_threads);
  EXPECT_EQ(ha.cpu.llc_bytes, hb.cpu.llc_bytes);
  EXPECT_EQ(ha.cpu.llc_bandwidth_factor, hb.cpu.llc_bandwidth_factor);
  EXPECT_EQ(ha.host.framework_op_s, hb.host.framework_op_s);
  EXPECT_EQ(ha.host.framework_step_s, hb.host.framework_step_s);
  EXPECT_EQ(ha.host.shares_cpu_core, hb.host.shares_cpu_core);
  const ModelShape &ma = a.model, &mb = b.model;
  EXPECT_EQ(ma.name, mb.name);
  EXPECT_EQ(ma.source, mb.source);
  EXPECT_EQ(ma.layers, mb.layers);
  EXPECT_EQ(ma.q_heads, mb.q_heads);
  EXPECT_EQ(ma.kv_heads, mb.kv_heads);
  EXPECT_EQ(ma.head_dim, mb.head_dim);
  EXPECT_EQ(ma.hidden, mb.hidden);
  EXPECT_EQ(ma.intermediate, mb.intermediate);
  EXPECT_EQ(ma.vocab, mb.vocab);
  EXPECT_EQ(ma.gated_mlp, mb.gated_mlp);
  EXPECT_EQ(ma.tied_embeddings, mb.tied_embeddings);
  EXPECT_EQ(ma.weight_bytes_per_param, mb.weight_bytes_per_param);
  EXPECT_EQ(ma.kv_bytes_per_elem, mb.kv_bytes_per_elem);
  EXPECT_EQ(ma.weight_dtype, mb.weight_dtype);
  EXPECT_EQ(ma.kv_dtype, mb.kv_dtype);
  const WorkloadSpec &wa = a.workload, &wb = b.workload;
  EXPECT_EQ(wa.batch, wb.batch);
  EXPECT_EQ(wa.prompt, wb.prompt);
  EXPECT_EQ(wa.decode, wb.decode);
  ASSERT_EQ(wa.requests.size(), wb.requests.size());
  for (size_t i = 0; i < wa.requests.size(); ++i) {
    EXPECT_EQ(wa.requests[i].prompt, wb.requests[i].prompt);
    EXPECT_EQ(wa.requests[i].decode, wb.requests[i].decode);
  }
  EXPECT_EQ(wa.prefill_chunk, wb.prefill_chunk);
  EXPECT_EQ(wa.simulate_prefill, wb.simulate_prefill);
  const SystemSpec &sa = a.system, &sb = b.system;
  EXPECT_EQ(sa.strategy, sb.strategy);
  EXPECT_EQ(sa.window, sb.window);
  EXPECT_EQ(sa.sinks, sb.sinks);
  EXPECT_EQ(sa.eviction_batch, sb.eviction_batch);
  EXPECT_EQ(sa.selection.source, sb.selection.source);
  EXPECT_EQ(sa.selection.fraction, sb.selection.fraction);
  EXPECT_EQ(sa.selection.top_k, sb.selection.top_k);
  EXPECT_EQ(sa.selection.median_fraction, sb.selection.median_fraction);
  EXPECT_EQ(sa.selection.sigma, sb.selection.sigma);
  EXPECT_EQ(sa.selection.min_fraction, sb.selection.min_fraction);
  EXPECT_EQ(sa.selection.max_fraction, sb.selection.max_fraction);
  EXPECT_EQ(sa.selection.profile_path, sb.selection.profile_path);
  EXPECT_EQ(sa.selection.granularity, sb.selection.granularity);
  EXPECT_EQ(sa.selection_method, sb.selection_method);
  EXPECT_EQ(sa.summary_block, sb.summary_block);
  EXPECT_EQ(sa.reselect_interval, sb.reselect_interval);
  EXPECT_EQ(sa.cpu_threads, sb.cpu_threads);
  EXPECT_EQ(sa.cpu_schedule, sb.cpu_schedule);
  EXPECT_EQ(sa.cpu_task, sb.cpu_task);
  EXPECT_EQ(sa.prefetch_layers, sb.prefetch_layers);
  EXPECT_EQ(sa.pinned, sb.pinned);
  EXPECT_EQ(sa.activation_tokens, sb.activation_tokens);
  EXPECT_EQ(sa.weights_on_gpu, sb.weights_on_gpu);
  EXPECT_EQ(sa.overlap_io, sb.overlap_io);
  EXPECT_EQ(sa.attention_only, sb.attention_only);
  EXPECT_EQ(sa.preset, sb.preset);
  const PaperSpec &pa = sa.paper, &pb = sb.paper;
  EXPECT_EQ(pa.block_size, pb.block_size);
  EXPECT_EQ(pa.gpu_blocks, pb.gpu_blocks);
  EXPECT_EQ(pa.recall_blocks, pb.recall_blocks);
  EXPECT_EQ(pa.alpha, pb.alpha);
  EXPECT_EQ(pa.beta, pb.beta);
  EXPECT_EQ(pa.head_groups, pb.head_groups);
  EXPECT_EQ(pa.keep_min, pb.keep_min);
  EXPECT_EQ(pa.selection, pb.selection);
  EXPECT_EQ(pa.threshold_over, pb.threshold_over);
  EXPECT_EQ(pa.recall_reload, pb.recall_reload);
  EXPECT_EQ(pa.framework_copies, pb.framework_copies);
  EXPECT_EQ(sa.h2o.budget, sb.h2o.budget);
  EXPECT_EQ(sa.h2o.heavy_share, sb.h2o.heavy_share);
  EXPECT_EQ(sa.infinigen.budget, sb.infinigen.budget);
  EXPECT_EQ(sa.infinigen.partial_ratio, sb.infinigen.partial_ratio);
  EXPECT_EQ(sa.flexgen.cpu_attention, sb.flexgen.cpu_attention);
  EXPECT_EQ(sa.flexgen.kv_on_gpu, sb.flexgen.kv_on_gpu);
}

ScratchDir::ScratchDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "hgca-config-test-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  root_ = pattern;
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  std::filesystem::remove_all(root_, ec);
}

std::string ScratchDir::write(const std::string& relative, const std::string& text) const {
  const std::filesystem::path file = root_ / relative;
  std::filesystem::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << text;
  return file.string();
}

std::string replace_line(const std::string& text, const std::string& old_line, const std::string& new_line) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  int found = 0;
  std::string out;
  for (const std::string& line : lines) {
    if (line == old_line) {
      ++found;
      out += new_line + "\n";
    } else {
      out += line + "\n";
    }
  }
  EXPECT_EQ(found, 1) << "line '" << old_line << "' must occur exactly once in the template";
  return found == 1 ? out : text;
}

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

}  // namespace hgca::testing
