// Microbenchmarks of the primitives a hardware profile is fitted to (`hgca calibrate --out`,
// docs/CALIBRATION.md): PCIe copies, our GPU decode attention and merge kernels, cuBLAS decode-shape GEMMs,
// kernel launches, CPU streaming and gathered reads, and CPU sparse attention with its selection or over
// lists given in advance.
//
// Independent of the simulator: the result is a list of rows in the measurements table's schema (one row per
// measurement; write_csv gives the exact CSV `hgca calibrate --from-measurements` reads). Every time is the
// median of repetitions after warm-up; device times come from CUDA events, host-side times (launches, CPU
// batches) from a steady clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "kernels/cpu/thread_pool.hpp"

namespace hgca::kernels::microbench {

// One measurement. Numeric fields left at 0 (selected: -1) and empty texts are empty cells: the columns a
// primitive does not use.
struct Row {
  std::string primitive;  // pcie_copy, gpu_attention, gpu_gemm, gpu_merge, gpu_launch, cpu_stream, cpu_gather, cpu_attention
  std::string direction;  // pcie_copy: h2d, d2h, both
  std::string memory;     // pcie_copy: pinned, pageable
  double bytes = 0;
  int batch = 0, q_heads = 0, kv_heads = 0, head_dim = 0;
  std::int64_t kv_len = 0;
  std::string dtype;
  std::int64_t m = 0, n = 0, k = 0;
  int count = 0;
  int threads = 0;
  std::string method;  // cpu_attention: dense, key-scan, given
  std::int64_t selected = -1;
  std::string task;    // cpu_attention: head, kv-head, sequence
  double time_s = 0;
  std::string note;
};

struct Options {
  bool quick = false;   // a tiny grid: a smoke test of every primitive in seconds
  int max_threads = 0;  // CPU threads of the largest point; 0: every hardware thread
  // The timed CPU pools' workers spin this long between calls before parking: as the hybrid runner's
  // (kernels/hybrid HybridConfig::worker_spin_us), so that the rows carry the wake costs the runner pays.
  std::chrono::microseconds worker_spin = kDefaultWorkerSpin;
  // CPU only: overrides of the grid, for tests (0 / empty: the grid's own)
  double cpu_stream_bytes = 0;
  std::vector<int> cpu_threads;
  std::function<void(const std::string&)> log;  // progress lines (may be empty)
};

// Rows of several passes over the same grid merged into one: each row's time is the median of its times over the
// passes (the other fields are the first pass's). Passes run one after the other, so a drift of the machine
// (another tenant, clocks) hits every row of a pass alike instead of a block of rows of one pass; the median over
// passes then drops a pass that a drift spoiled. Throws std::invalid_argument when the passes are empty or do not
// list the same rows in the same order.
std::vector<Row> median_over_passes(const std::vector<std::vector<Row>>& passes);

// The CSV header and rows, in the schema of docs/CALIBRATION.md.
void write_csv(std::ostream& out, const std::vector<Row>& rows);

// cpu_stream, cpu_gather and cpu_attention rows (no GPU needed).
std::vector<Row> run_cpu(const Options& options);

// Whether the GPU benchmarks can run here; `why` receives the reason when not (no CUDA build, no device).
bool gpu_available(std::string* why);
// pcie_copy, gpu_attention, gpu_merge, gpu_gemm and gpu_launch rows; throws std::runtime_error on a CUDA or
// cuBLAS failure.
std::vector<Row> run_gpu(const Options& options);

// What the profile is stamped with. GPU fields are empty without a device.
struct MachineInfo {
  std::string gpu, driver, cuda_runtime, cpu, host;
};
MachineInfo machine_info();

}  // namespace hgca::kernels::microbench
