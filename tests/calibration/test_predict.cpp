// Predictions of single primitives against hand computations from the model's documented rules
// (docs/DESIGN.md, docs/CALIBRATION.md): what the fit sees is what a simulation of that primitive gives.
#include <gtest/gtest.h>

#include <algorithm>

#include "sim/calibration/predict.hpp"
#include "tests/support/fixtures.hpp"

namespace hgca {
namespace {

Measurement copy(CopyDirection dir, double bytes, bool pageable = false) {
  Measurement m;
  m.primitive = Primitive::PcieCopy;
  m.direction = dir;
  m.bytes = bytes;
  m.pageable = pageable;
  return m;
}

Measurement attention(Primitive p, int batch, int q, int kv, int64_t len, int d) {
  Measurement m;
  m.primitive = p;
  m.batch = batch;
  m.q_heads = q;
  m.kv_heads = kv;
  m.kv_len = len;
  m.head_dim = d;
  m.dtype = "fp16";
  m.dtype_bytes = 2;
  return m;
}

// Relative tolerance: simulated time is whole picoseconds, rounded up per phase.
constexpr double kTol = 1e-9;

TEST(Predict, LoneCopyIsLatencyPlusBytesOverBandwidth) {
  HardwareProfile hw = test::simple_hardware();
  hw.pcie.d2h = {40e9, 3e-6};
  EXPECT_NEAR(predict_seconds(hw, copy(CopyDirection::H2D, 1e9)), 5e-6 + 1e9 / 50e9, kTol);
  EXPECT_NEAR(predict_seconds(hw, copy(CopyDirection::D2H, 1e9)), 3e-6 + 1e9 / 40e9, kTol);
  // Pageable: capped at the pageable bandwidth (10 GB/s here).
  EXPECT_NEAR(predict_seconds(hw, copy(CopyDirection::H2D, 1e9, true)), 5e-6 + 1e9 / 10e9, kTol);
}

TEST(Predict, BothDirectionsShareTheDuplexCap) {
  HardwareProfile hw = test::simple_hardware();
  hw.pcie.d2h = {40e9, 5e-6};
  hw.pcie.duplex_bandwidth = 60e9;
  // Both move data from 5 us at 60/90 of their rates (33.3 and 26.7 GB/s); H2D ends first, having moved 1 GB,
  // while D2H moved 0.8 GB; D2H then finishes its 0.2 GB alone at 40 GB/s.
  const double h2d_end = 5e-6 + 1e9 / (50e9 * 60.0 / 90.0);
  EXPECT_NEAR(predict_seconds(hw, copy(CopyDirection::Both, 1e9)), h2d_end + 0.2e9 / 40e9, 1e-8);
  // No cap: each direction at its own rate; the slower one decides.
  hw.pcie.duplex_bandwidth = 0;
  EXPECT_NEAR(predict_seconds(hw, copy(CopyDirection::Both, 1e9)), 5e-6 + 1e9 / 40e9, kTol);
}

TEST(Predict, GpuKernelsAreTheRooflineOfTheirCosts) {
  HardwareProfile hw = test::simple_hardware();  // 1 TB/s, 100 TFLOP/s tensor, 10 TFLOP/s vector
  hw.gpu.kernel_min_s = 2e-6;
  // Decode attention, 8 x 4096 tokens, 32 query / 8 KV heads of 128, fp16: per sequence K and V
  // 4096 x 2 x 8 x 128 x 2 B plus the 16-bit query read and output written (2 x 32 x 128 x 2 B).
  const double bytes = 8 * (4096.0 * 2 * 8 * 128 * 2 + 2.0 * 32 * 128 * 2);
  EXPECT_NEAR(predict_seconds(hw, attention(Primitive::GpuAttention, 8, 32, 8, 4096, 128)), bytes / 1e12, kTol);
  // A tiny one is held at the minimum kernel time.
  EXPECT_NEAR(predict_seconds(hw, attention(Primitive::GpuAttention, 1, 1, 1, 1, 8)), 2e-6, kTol);
  // Prefill-like (q_len 4096): 4 FLOPs per (query, key, head, dim) outweigh the bytes.
  Measurement prefill = attention(Primitive::GpuAttention, 1, 32, 8, 4096, 128);
  prefill.q_len = 4096;
  EXPECT_NEAR(predict_seconds(hw, prefill), 4.0 * 4096 * 4096 * 32 * 128 / 100e12, kTol);
  // GEMM (8 x 14336) x (14336 x 4096) in bf16: weights dominate the bytes.
  Measurement gemm;
  gemm.primitive = Primitive::GpuGemm;
  gemm.m = 8;
  gemm.k = 14336;
  gemm.n = 4096;
  gemm.dtype = "bf16";
  gemm.dtype_bytes = 2;
  const double gemm_bytes = 14336.0 * 4096 * 2 + 8.0 * (14336 + 4096) * 2;
  EXPECT_NEAR(predict_seconds(hw, gemm), std::max(gemm_bytes / 1e12, 2.0 * 8 * 14336 * 4096 / 100e12), kTol);
  // Merge: per (sequence, head) fp32 output and LSE of both parts read, 16-bit output written; vector peak.
  const Measurement merge = attention(Primitive::GpuMerge, 64, 32, 0, 0, 128);
  const double n = 64.0 * 32;
  EXPECT_NEAR(predict_seconds(hw, merge), std::max(n * (129 * 4 * 2 + 128 * 2) / 1e12, n * (4 * 128 + 8) / 10e12), kTol);
}

TEST(Predict, BackToBackLaunchesRunAtTheSlowerOfHostAndDevice) {
  HardwareProfile hw = test::simple_hardware();
  hw.gpu.kernel_launch_s = 4e-6;
  hw.gpu.kernel_min_s = 2e-6;
  Measurement m;
  m.primitive = Primitive::GpuLaunch;
  m.count = 100;
  // Host-bound: the last of 100 launches ends at 400 us, its kernel 2 us later.
  EXPECT_NEAR(predict_seconds(hw, m), 402e-6 / 100, kTol);
  // Device-bound: the first kernel starts at 4 us, then 100 kernels of 6 us back to back.
  hw.gpu.kernel_min_s = 6e-6;
  EXPECT_NEAR(predict_seconds(hw, m), 604e-6 / 100, kTol);
}

TEST(Predict, CpuReadsShareTheCurveOfTheirThreadCount) {
  HardwareProfile hw = test::simple_hardware();  // curve {1: 10, 8: 80} GB/s
  hw.cpu.wakeup_s = 5e-6;
  hw.cpu.task_overhead_s = 1e-6;
  hw.cpu.gather_efficiency = 0.5;
  Measurement m;
  m.primitive = Primitive::CpuStream;
  m.threads = 4;
  m.bytes = 4e8;
  // 4 threads read at 40 GB/s together (interpolated), 10 GB/s each, after wake-up and overhead.
  EXPECT_NEAR(predict_seconds(hw, m), 6e-6 + 1e8 / 10e9, kTol);
  m.primitive = Primitive::CpuGather;
  EXPECT_NEAR(predict_seconds(hw, m), 6e-6 + 1e8 / (10e9 * 0.5), kTol);
}

TEST(Predict, CpuAttentionTasksAreBuiltAsTheStrategiesBuildThem) {
  const HardwareProfile hw = test::simple_hardware();  // no overheads; 2 threads read 20 GB/s, 10 each
  // Dense, 2 sequences x 4 query heads (2 KV heads), 1000 entries of 64-dim fp16 K and V (256 B per entry).
  Measurement m = attention(Primitive::CpuAttention, 2, 4, 2, 1000, 64);
  m.threads = 2;
  const double head_read = 1000.0 * 2 * 64 * 2;
  // Per query head: 8 tasks of one head's KV each, 4 per core, one after the other.
  EXPECT_NEAR(predict_seconds(hw, m), 4 * head_read / 10e9, kTol);
  // Per KV head: the 2 query heads of a group read their KV once: 4 tasks, 2 per core.
  m.task = CpuTaskGranularity::KvHead;
  EXPECT_NEAR(predict_seconds(hw, m), 2 * head_read / 10e9, kTol);
  // Key scan selecting 100 entries per query head: every key (1000 x 64 x 2 B) then 100 K and V rows.
  m.task = CpuTaskGranularity::Head;
  m.method = CpuAttentionMethod::KeyScan;
  m.selected = 100;
  EXPECT_NEAR(predict_seconds(hw, m), 4 * (1000.0 * 64 * 2 + 100.0 * 256) / 10e9, kTol);
  // The selection work alone (nothing selected): only the key scan.
  m.selected = 0;
  EXPECT_NEAR(predict_seconds(hw, m), 4 * (1000.0 * 64 * 2) / 10e9, kTol);
}

TEST(Predict, GivenListsPayRowsAndBytesButNoSelection) {
  HardwareProfile hw = test::simple_hardware();  // 2 threads read 20 GB/s together, 10 each
  hw.cpu.wakeup_s = 5e-6;
  hw.cpu.task_overhead_s = 1e-6;
  hw.cpu.gather_efficiency = 0.5;  // scattered rows at 5 GB/s per core
  hw.cpu.row_cost_s = 100e-9;  // per row a core waits on: 100 rows take 10 us however free DRAM is
  // 2 sequences x 4 query heads (2 KV heads) of 64-dim fp16, each query head attending its own 100 entries
  // (256 B of K and V each) out of 1000, on 2 threads.
  Measurement m = attention(Primitive::CpuAttention, 2, 4, 2, 1000, 64);
  m.threads = 2;
  m.method = CpuAttentionMethod::Given;
  m.selected = 100;
  // Per query head: 8 equal tasks, 4 per core in lockstep; each pays the overhead, then the longer of 100 rows'
  // latency and reading 100 x 256 B at 5 GB/s (they overlap). Wake-up once per core at the start. No key is scanned.
  const double head_task = 1e-6 + std::max(100 * 100e-9, 100 * 256.0 / 5e9);
  EXPECT_NEAR(predict_seconds(hw, m), 5e-6 + 4 * head_task, kTol);
  // Per KV head, lists that barely overlap (200 listed, about 190 distinct): run as per-head tasks, as the
  // CPU kernels do (kernels/cpu/sparse_attention.cpp), so the same time.
  m.task = CpuTaskGranularity::KvHead;
  EXPECT_NEAR(predict_seconds(hw, m), 5e-6 + 4 * head_task, kTol);
  // Lists that overlap (800 of 1000 each: 1600 listed, about 960 distinct): 4 group tasks, 2 per core, each
  // reading both heads' rows.
  m.selected = 800;
  const double group_task = 1e-6 + std::max(1600 * 100e-9, 1600 * 256.0 / 5e9);
  EXPECT_NEAR(predict_seconds(hw, m), 5e-6 + 2 * group_task, kTol);
  m.selected = 100;
  // The same lists found by a key scan cost the scan on top (every key, 1000 x 64 x 2 B, streamed at 10 GB/s):
  // the reads now outlast the rows' latency.
  m.method = CpuAttentionMethod::KeyScan;
  m.task = CpuTaskGranularity::Head;
  EXPECT_NEAR(predict_seconds(hw, m), 5e-6 + 4 * (1e-6 + std::max(100 * 100e-9, 1000.0 * 64 * 2 / 10e9 + 100 * 256.0 / 5e9)),
              kTol);
  // Streamed rows (dense attention) pay no row cost: the prefetcher hides their misses.
  m.method = CpuAttentionMethod::Dense;
  EXPECT_NEAR(predict_seconds(hw, m), 5e-6 + 4 * (1e-6 + 1000.0 * 256 / 10e9), kTol);
}

}  // namespace
}  // namespace hgca
