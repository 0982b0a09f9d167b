// The shipped configs/hw/device-h100.yaml carries the figures measured on the device machine
// (figures typed in here from the measurement notes, independently of the YAML file).
#include <gtest/gtest.h>

#include "sim/config/loader.hpp"

namespace hgca {
namespace {

const std::string kSource = HGCA_SOURCE_DIR;

TEST(ShippedHardware, DeviceH100HasTheMeasuredFigures) {
  const HardwareProfile hw = load_hardware(kSource + "/configs/hw/device-h100.yaml");
  EXPECT_EQ(hw.name, "device-h100");
  EXPECT_FALSE(hw.calibrated);
  EXPECT_FALSE(hw.source.empty());
  // Measured: pinned 256 MB copies and the 256 B latency, both directions; duplex; pageable; launches.
  EXPECT_DOUBLE_EQ(hw.pcie.h2d.bandwidth, 55.0e9);
  EXPECT_DOUBLE_EQ(hw.pcie.h2d.latency_s, 4.7e-6);
  EXPECT_DOUBLE_EQ(hw.pcie.d2h.bandwidth, 55.1e9);
  EXPECT_DOUBLE_EQ(hw.pcie.d2h.latency_s, 4.0e-6);
  EXPECT_DOUBLE_EQ(hw.pcie.duplex_bandwidth, 99.5e9);
  EXPECT_DOUBLE_EQ(hw.pcie.pageable_bandwidth, 9.7e9);
  EXPECT_DOUBLE_EQ(hw.gpu.kernel_launch_s, 3.5e-6);
  // The best decode-attention read rate torch reached (cuDNN, 64 x 32K): the practical HBM roofline.
  EXPECT_DOUBLE_EQ(hw.gpu.hbm_bandwidth, 3.08e12);
  EXPECT_DOUBLE_EQ(hw.gpu.memory_bytes, 80.0 * 1073741824.0);
  // CPU: 16 cores, one NUMA node, 125 GiB, streaming read by threads.
  EXPECT_EQ(hw.cpu.cores, 16);
  EXPECT_EQ(hw.cpu.sockets, 1);
  EXPECT_DOUBLE_EQ(hw.cpu.memory_bytes, 125.0 * 1073741824.0);
  const std::vector<std::pair<int, double>> curve = {{1, 12.3e9}, {2, 25.1e9}, {4, 42.6e9}, {8, 80.1e9}, {16, 104.2e9}};
  ASSERT_EQ(hw.cpu.bandwidth_by_threads.size(), curve.size());
  for (size_t i = 0; i < curve.size(); ++i) {
    EXPECT_EQ(hw.cpu.bandwidth_by_threads[i].first, curve[i].first);
    EXPECT_DOUBLE_EQ(hw.cpu.bandwidth_by_threads[i].second, curve[i].second);
  }
  // Estimates (datasheet or judgement), as the brief asks for them.
  EXPECT_DOUBLE_EQ(hw.gpu.matmul_flops, 989e12);
  EXPECT_DOUBLE_EQ(hw.gpu.vector_flops, 67e12);
  EXPECT_DOUBLE_EQ(hw.gpu.hbm_efficiency, 0.85);
  EXPECT_DOUBLE_EQ(hw.gpu.matmul_efficiency, 0.6);
  EXPECT_DOUBLE_EQ(hw.cpu.flops_per_core, 100e9);
  EXPECT_DOUBLE_EQ(hw.cpu.gather_efficiency, 0.8);
}

TEST(ShippedHardware, FoundByNameThroughConfigDirs) {
  const HardwareProfile hw = load_hardware("device-h100", {.overrides = {}, .config_dirs = {kSource + "/configs"}});
  EXPECT_EQ(hw.cpu.cores, 16);
}

}  // namespace
}  // namespace hgca
