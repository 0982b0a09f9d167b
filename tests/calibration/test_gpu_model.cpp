// The GPU kernel model with a fixed cost per kernel kind (sim/hw/gpu_cost): hand computations, the fit
// recovering its parameters from rows the model made, and the recorded H100 rows of our decode attention
// kernel, where it must do far better than the plain roofline.
#include <gtest/gtest.h>

#include <cmath>

#include "sim/calibration/fit.hpp"
#include "sim/calibration/predict.hpp"
#include "sim/config/loader.hpp"
#include "sim/hw/gpu_cost.hpp"

namespace hgca {
namespace {

GpuSpec h100ish() {
  GpuSpec g;
  g.hbm_bandwidth = 3e12;
  g.hbm_efficiency = 1;
  g.matmul_flops = 1e15;
  g.matmul_efficiency = 0.5;
  g.vector_flops = 5e13;
  g.kernel_min_s = 2e-6;
  g.attention_fixed_s = 20e-6;
  g.gemm_fixed_s = 5e-6;
  g.vector_fixed_s = 3e-6;
  return g;
}

TEST(GpuModel, FixedCostIsAddedToTheRooflinePerKind) {
  const GpuSpec g = h100ish();
  // Attention, memory-bound: 20 us + 3e9 B / 3e12 B/s = 20 us + 1 ms.
  EXPECT_NEAR(gpu_kernel_seconds(g, KernelKind::Attention, 1e9, 3e9), 20e-6 + 1e-3, 1e-12);
  // GEMM, compute-bound: 5 us + 1e12 FLOP / (1e15 x 0.5) = 5 us + 2 ms.
  EXPECT_NEAR(gpu_kernel_seconds(g, KernelKind::Gemm, 1e12, 3e6), 5e-6 + 2e-3, 1e-12);
  // Merge and elementwise: the vector fixed cost; 1e6 FLOP / 5e13 = 20 ns, 3e6 B / 3e12 = 1 us.
  EXPECT_NEAR(gpu_kernel_seconds(g, KernelKind::Merge, 1e6, 3e6), 3e-6 + 1e-6, 1e-15);
  EXPECT_NEAR(gpu_kernel_seconds(g, KernelKind::Elementwise, 0, 3e6), 3e-6 + 1e-6, 1e-15);
  // An empty kernel: kernel_min alone.
  EXPECT_DOUBLE_EQ(gpu_kernel_seconds(g, KernelKind::Other, 0, 0), 2e-6);
}

TEST(GpuModel, KernelMinStillFloorsAndZeroFixedIsThePlainRoofline) {
  GpuSpec g = h100ish();
  g.kernel_min_s = 50e-6;
  EXPECT_DOUBLE_EQ(gpu_kernel_seconds(g, KernelKind::Attention, 0, 3e6), 50e-6);  // 21 us < 50 us
  g.kernel_min_s = 0;
  g.attention_fixed_s = 0;
  EXPECT_DOUBLE_EQ(gpu_kernel_seconds(g, KernelKind::Attention, 1e9, 3e9), 1e-3);
}

Measurement attention_row(int batch, int64_t kv_len, double seconds) {
  Measurement m;
  m.primitive = Primitive::GpuAttention;
  m.batch = batch;
  m.q_heads = 32;
  m.kv_heads = 8;
  m.head_dim = 128;
  m.kv_len = kv_len;
  m.dtype = "fp16";
  m.dtype_bytes = 2;
  m.seconds = seconds;
  return m;
}

TEST(GpuModel, FitRecoversFixedCostAndBandwidthFromRowsTheModelMade) {
  HardwareProfile truth = load_hardware("device-h100");
  truth.gpu.hbm_efficiency = 0.93;     // 2.864 TB/s effective
  truth.gpu.attention_fixed_s = 17e-6;
  truth.gpu.vector_fixed_s = 4e-6;
  truth.gpu.kernel_min_s = 2e-6;
  std::vector<Measurement> rows;
  int line = 1;
  for (int b : {1, 4, 16, 64})
    for (int64_t w : {256, 1024, 4096, 16384}) {
      Measurement m = attention_row(b, w, 0);
      m.line = ++line;
      m.seconds = predict_seconds(truth, m) * (1 + 0.003 * ((line % 3) - 1));  // +-0.3 % deterministic noise
      rows.push_back(m);
    }
  for (int b : {1, 16, 128, 1024}) {
    Measurement m;
    m.primitive = Primitive::GpuMerge;
    m.batch = b;
    m.q_heads = 32;
    m.head_dim = 128;
    m.line = ++line;
    m.seconds = predict_seconds(truth, m);
    rows.push_back(m);
  }
  HardwareProfile base = load_hardware("device-h100");  // fixed costs 0, efficiency 0.85
  const FitResult fit = fit_profile(base, rows);
  EXPECT_NEAR(fit.profile.gpu.attention_fixed_s / 17e-6, 1, 0.03);
  EXPECT_NEAR(fit.profile.gpu.hbm_bandwidth * fit.profile.gpu.hbm_efficiency / (truth.gpu.hbm_bandwidth * 0.93), 1, 0.03);
  EXPECT_NEAR(fit.profile.gpu.vector_fixed_s / 4e-6, 1, 0.05);
  for (const PrimitiveSummary& s : summarize(fit.rows)) EXPECT_LT(s.rms_relative, 0.01) << to_string(s.primitive);
}

double attention_rms(const std::vector<RowResult>& rows) {
  for (const PrimitiveSummary& s : summarize(rows))
    if (s.primitive == Primitive::GpuAttention) return s.rms_relative;
  return -1;
}

// Our decode attention kernel on the device H100 (docs/device-runs/2026-11-23-run3, converted by
// scripts/device/bench_to_measurements.py), fitted with the fixed costs and with them held at 0 (the plain
// roofline); the run before it (run2) is predicted without fitting.
TEST(GpuModel, RecordedDeviceRowsFitFarBetterWithTheFixedCost) {
  const std::string dir = std::string(HGCA_SOURCE_DIR) + "/tests/calibration/data/";
  const MeasurementTable run3 = read_measurements(dir + "device-h100-our-attention.csv");
  const MeasurementTable run2 = read_measurements(dir + "device-h100-our-attention-run2.csv");
  const HardwareProfile base = load_hardware("device-h100");
  const FitResult affine = fit_profile(base, run3.rows);
  FitOptions old_model;
  old_model.hold = {"gpu.attention_fixed", "gpu.gemm_fixed", "gpu.vector_fixed"};
  const FitResult roofline = fit_profile(base, run3.rows, old_model);
  const double new_rms = attention_rms(affine.rows), old_rms = attention_rms(roofline.rows);
  EXPECT_LT(new_rms, 0.07);
  EXPECT_GT(old_rms, 0.15);
  EXPECT_LT(new_rms, old_rms / 3);
  EXPECT_LT(attention_rms(predict_rows(affine.profile, run2.rows)), 0.08);
  // The fixed cost is that of a small kernel: between 10 and 30 us on this device.
  EXPECT_GT(affine.profile.gpu.attention_fixed_s, 10e-6);
  EXPECT_LT(affine.profile.gpu.attention_fixed_s, 30e-6);
}

}  // namespace
}  // namespace hgca
