// Hardware profiles: every figure read with its unit, defaults, and each validation error with file, line, key.
#include <gtest/gtest.h>

#include "config_test_support.hpp"
#include "sim/config/loader.hpp"
#include "sim/config/yaml_writer.hpp"

namespace hgca {
namespace {

using testing::contains;
using testing::error_of;
using testing::kHardwareYaml;
using testing::replace_line;

class HardwareFile : public ::testing::Test {
 protected:
  // Loads `text` as hw.yaml and returns the error message.
  std::string error_for(const std::string& text) {
    const std::string file = dir_.write("hw.yaml", text);
    return error_of([&] { load_hardware(file); });
  }
  std::string at(int line) const { return (dir_.path() / "hw.yaml").string() + ":" + std::to_string(line) + ": "; }

  testing::ScratchDir dir_;
};

TEST_F(HardwareFile, ReadsEveryFigure) {
  const HardwareProfile hw = load_hardware(dir_.write("hw.yaml", kHardwareYaml));
  EXPECT_EQ(hw.name, "test-hw");
  EXPECT_EQ(hw.source, "unit test");
  EXPECT_FALSE(hw.calibrated);
  EXPECT_EQ(hw.gpu.name, "Test GPU");
  EXPECT_EQ(hw.gpu.memory_bytes, 80.0 * 1073741824.0);
  EXPECT_EQ(hw.gpu.reserved_bytes, 2.5 * 1073741824.0);
  EXPECT_EQ(hw.gpu.hbm_bandwidth, 3e12);
  EXPECT_EQ(hw.gpu.hbm_efficiency, 0.85);
  EXPECT_EQ(hw.gpu.matmul_flops, 989e12);
  EXPECT_EQ(hw.gpu.matmul_efficiency, 0.6);
  EXPECT_EQ(hw.gpu.vector_flops, 67e12);
  EXPECT_DOUBLE_EQ(hw.gpu.kernel_launch_s, 3.5e-6);
  EXPECT_DOUBLE_EQ(hw.gpu.kernel_min_s, 2e-6);
  EXPECT_EQ(hw.pcie.h2d.bandwidth, 55e9);
  EXPECT_DOUBLE_EQ(hw.pcie.h2d.latency_s, 4.7e-6);
  EXPECT_EQ(hw.pcie.d2h.bandwidth, 55.1e9);
  EXPECT_DOUBLE_EQ(hw.pcie.d2h.latency_s, 4e-6);
  EXPECT_EQ(hw.pcie.duplex_bandwidth, 99.5e9);
  EXPECT_EQ(hw.pcie.pageable_bandwidth, 9.7e9);
  EXPECT_EQ(hw.pcie.copy_engines_per_direction, 1);
  EXPECT_EQ(hw.cpu.name, "Test CPU");
  EXPECT_EQ(hw.cpu.cores, 16);
  EXPECT_EQ(hw.cpu.sockets, 1);
  EXPECT_EQ(hw.cpu.memory_bytes, 125.0 * 1073741824.0);
  const std::vector<std::pair<int, double>> curve = {{1, 12.3e9}, {4, 42.6e9}, {16, 104.2e9}};
  EXPECT_EQ(hw.cpu.bandwidth_by_threads, curve);
  EXPECT_EQ(hw.cpu.flops_per_core, 100e9);
  EXPECT_DOUBLE_EQ(hw.cpu.task_overhead_s, 1e-6);
  EXPECT_DOUBLE_EQ(hw.cpu.wakeup_s, 5e-6);
  EXPECT_EQ(hw.cpu.gather_efficiency, 0.8);
}

TEST_F(HardwareFile, OptionalKeysTakeTheirDefaults) {
  std::string text = kHardwareYaml;
  for (const char* line :
       {"name: test-hw", "calibrated: false", "source: \"unit test\"", "  name: Test GPU", "  reserved: 2.5 GiB",
        "  hbm_efficiency: 0.85", "  matmul_efficiency: 0.6", "  duplex_bandwidth: 99.5 GB/s",
        "  copy_engines_per_direction: 1", "  sockets: 1", "  gather_efficiency: 0.8", "  name: Test CPU"})
    text = replace_line(text, line, "");
  const HardwareProfile hw = load_hardware(dir_.write("my-box.yaml", text));
  EXPECT_EQ(hw.name, "my-box");  // the file stem
  EXPECT_EQ(hw.source, "");
  EXPECT_FALSE(hw.calibrated);
  EXPECT_EQ(hw.gpu.reserved_bytes, 0.0);
  EXPECT_EQ(hw.gpu.hbm_efficiency, 1.0);
  EXPECT_EQ(hw.gpu.matmul_efficiency, 1.0);
  EXPECT_EQ(hw.pcie.duplex_bandwidth, 0.0);
  EXPECT_EQ(hw.pcie.copy_engines_per_direction, 1);
  EXPECT_EQ(hw.cpu.sockets, 1);
  EXPECT_EQ(hw.cpu.gather_efficiency, 1.0);
}

TEST_F(HardwareFile, UnknownKeySuggestsTheClosest) {
  const std::string text = replace_line(kHardwareYaml, "  kernel_min: 2 us", "  kernel_min: 2 us\n  kernel_mni: 1 us");
  EXPECT_TRUE(contains(error_for(text), at(15) + "gpu.kernel_mni: unknown key (did you mean 'kernel_min'?)"));
  EXPECT_TRUE(contains(error_for(text), "expected one of name, memory, reserved"));
}

TEST_F(HardwareFile, WrongTypes) {
  EXPECT_TRUE(contains(error_for(replace_line(kHardwareYaml, "  cores: 16", "  cores: sixteen")),
                       at(23) + "cpu.cores: not a whole number: 'sixteen'"));
  EXPECT_TRUE(contains(error_for(replace_line(kHardwareYaml, "  memory: 80 GiB", "  memory: [80]")),
                       at(6) + "gpu.memory: got a list '[80]'"));
  EXPECT_TRUE(contains(error_for(replace_line(kHardwareYaml, "calibrated: false", "calibrated: maybe")),
                       at(2) + "calibrated: not a boolean: 'maybe'; expected true or false"));
  EXPECT_TRUE(contains(error_for(replace_line(kHardwareYaml, "  hbm_efficiency: 0.85", "  hbm_efficiency: high")),
                       at(9) + "gpu.hbm_efficiency: not a number: 'high'"));
  EXPECT_TRUE(
      contains(error_for(replace_line(kHardwareYaml, "  h2d: {bandwidth: 55 GB/s, latency: 4.7 us}", "  h2d: 55 GB/s")),
               at(16) + "pcie.h2d: got a scalar '55 GB/s'; expected a map of keys"));
}

TEST_F(HardwareFile, MissingRequiredKeyPointsAtItsMap) {
  EXPECT_TRUE(contains(error_for(replace_line(kHardwareYaml, "  hbm_bandwidth: 3 TB/s", "")),
                       at(4) + "gpu.hbm_bandwidth: missing required key"));
  EXPECT_TRUE(contains(error_for(replace_line(kHardwareYaml, "  flops_per_core: 100 GFLOP/s", "")),
                       at(21) + "cpu.flops_per_core: missing required key"));
}

TEST_F(HardwareFile, ImpossibleValues) {
  EXPECT_TRUE(contains(error_for(replace_line(kHardwareYaml, "  cores: 16", "  cores: 0")),
                       at(23) + "cpu.cores: must be at least 1, got 0"));
  EXPECT_TRUE(contains(error_for(replace_line(kHardwareYaml, "  cores: 16", "  cores: -4")),
                       at(23) + "cpu.cores: must be at least 1"));
  EXPECT_TRUE(contains(error_for(replace_line(kHardwareYaml, "  memory: 80 GiB", "  memory: 0 GiB")),
                       at(6) + "gpu.memory: must be positive, got '0 B'"));
  EXPECT_TRUE(contains(error_for(replace_line(kHardwareYaml, "  memory: 125 GiB", "  memory: -1 GiB")),
                       at(25) + "cpu.memory: must be positive"));
  EXPECT_TRUE(contains(
      error_for(replace_line(kHardwareYaml, "  pageable_bandwidth: 9.7 GB/s", "  pageable_bandwidth: -9.7 GB/s")),
      at(19) + "pcie.pageable_bandwidth: must be positive, got '-9.7 GB/s'"));
  EXPECT_TRUE(contains(error_for(replace_line(kHardwareYaml, "  hbm_bandwidth: 3 TB/s", "  hbm_bandwidth: 0 TB/s")),
                       at(8) + "gpu.hbm_bandwidth: must be positive"));
  EXPECT_TRUE(contains(error_for(replace_line(kHardwareYaml, "  h2d: {bandwidth: 55 GB/s, latency: 4.7 us}",
                                              "  h2d: {bandwidth: 55 GB/s, latency: -1 us}")),
                       at(16) + "pcie.h2d.latency: must not be negative"));
  EXPECT_TRUE(contains(error_for(replace_line(kHardwareYaml, "  reserved: 2.5 GiB", "  reserved: 80 GiB")),
                       at(7) + "gpu.reserved: reserves all of the 80 GiB of GPU memory"));
  EXPECT_TRUE(
      contains(error_for(replace_line(kHardwareYaml, "  duplex_bandwidth: 99.5 GB/s", "  duplex_bandwidth: 50 GB/s")),
               at(18) + "pcie.duplex_bandwidth: cap 50 GB/s is below the single-direction bandwidth 55.1 GB/s"));
  EXPECT_TRUE(contains(
      error_for(replace_line(kHardwareYaml, "  copy_engines_per_direction: 1", "  copy_engines_per_direction: 0")),
      at(20) + "pcie.copy_engines_per_direction: must be at least 1"));
}

// cpu.llc_bytes / cpu.llc_bandwidth_factor: defaults (no cache model), read with units, written back bit for
// bit only when set, and refused when negative or not a number.
TEST_F(HardwareFile, LastLevelCacheKeys) {
  const HardwareProfile plain = load_hardware(dir_.write("hw.yaml", kHardwareYaml));
  EXPECT_EQ(plain.cpu.llc_bytes, 0.0);
  EXPECT_EQ(plain.cpu.llc_bandwidth_factor, 1.0);
  EXPECT_EQ(hardware_to_yaml(plain).find("llc_"), std::string::npos);  // profiles without them read back the same
  const std::string with = replace_line(kHardwareYaml, "  gather_efficiency: 0.8",
                                        "  gather_efficiency: 0.8\n  llc_bytes: 300 MiB\n  llc_bandwidth_factor: 1.8125");
  HardwareProfile hw = load_hardware(dir_.write("hw.yaml", with));
  EXPECT_EQ(hw.cpu.llc_bytes, 300.0 * 1024 * 1024);
  EXPECT_EQ(hw.cpu.llc_bandwidth_factor, 1.8125);
  hw.cpu.llc_bandwidth_factor = 2.718281828459045;
  const HardwareProfile back = load_hardware(dir_.write("back.yaml", hardware_to_yaml(hw)));
  EXPECT_EQ(back.cpu.llc_bytes, hw.cpu.llc_bytes);
  EXPECT_EQ(back.cpu.llc_bandwidth_factor, hw.cpu.llc_bandwidth_factor);
  const std::string neg = error_for(replace_line(with, "  llc_bytes: 300 MiB", "  llc_bytes: -1 MiB"));
  EXPECT_TRUE(contains(neg, "cpu.llc_bytes: must be a size of at least 0")) << neg;
  for (const char* bad : {"  llc_bandwidth_factor: 0", "  llc_bandwidth_factor: -2", "  llc_bandwidth_factor: .nan"}) {
    const std::string e = error_for(replace_line(with, "  llc_bandwidth_factor: 1.8125", bad));
    EXPECT_TRUE(contains(e, "cpu.llc_bandwidth_factor:")) << bad << ": " << e;
  }
}

TEST_F(HardwareFile, EfficienciesLieInZeroToOne) {
  EXPECT_TRUE(contains(error_for(replace_line(kHardwareYaml, "  hbm_efficiency: 0.85", "  hbm_efficiency: 1.2")),
                       at(9) + "gpu.hbm_efficiency: must lie in (0, 1], got 1.2"));
  EXPECT_TRUE(contains(error_for(replace_line(kHardwareYaml, "  matmul_efficiency: 0.6", "  matmul_efficiency: 0")),
                       at(11) + "gpu.matmul_efficiency: must lie in (0, 1], got 0"));
  EXPECT_TRUE(contains(error_for(replace_line(kHardwareYaml, "  gather_efficiency: 0.8", "  gather_efficiency: -0.5")),
                       at(30) + "cpu.gather_efficiency: must lie in (0, 1]"));
  const std::string one = replace_line(kHardwareYaml, "  hbm_efficiency: 0.85", "  hbm_efficiency: 1");
  EXPECT_EQ(load_hardware(dir_.write("one.yaml", one)).gpu.hbm_efficiency, 1.0);  // 1 itself is allowed
}

TEST_F(HardwareFile, BandwidthCurveMustAscendAndBeNonEmpty) {
  const std::string curve = "  bandwidth_by_threads: {1: 12.3 GB/s, 4: 42.6 GB/s, 16: 104.2 GB/s}";
  EXPECT_TRUE(contains(error_for(replace_line(kHardwareYaml, curve,
                                              "  bandwidth_by_threads: {1: 12.3 GB/s, 16: 104.2 GB/s, 4: 42.6 GB/s}")),
                       at(26) + "cpu.bandwidth_by_threads.4: not ascending: 4 threads comes after 16"));
  EXPECT_TRUE(contains(error_for(replace_line(kHardwareYaml, curve, "  bandwidth_by_threads: {}")),
                       at(26) + "cpu.bandwidth_by_threads: empty"));
  EXPECT_TRUE(contains(error_for(replace_line(kHardwareYaml, curve, "  bandwidth_by_threads: {0: 1 GB/s}")),
                       at(26) + "cpu.bandwidth_by_threads.0: thread count must be at least 1"));
  EXPECT_TRUE(contains(error_for(replace_line(kHardwareYaml, curve, "  bandwidth_by_threads: {1: 12.3}")),
                       at(26) + "cpu.bandwidth_by_threads.1: missing unit in '12.3'"));
  EXPECT_TRUE(contains(error_for(replace_line(kHardwareYaml, curve, "")),
                       at(21) + "cpu.bandwidth_by_threads: missing required key"));
}

TEST_F(HardwareFile, UnitErrorsKeepTheParsersExplanation) {
  EXPECT_TRUE(contains(error_for(replace_line(kHardwareYaml, "  h2d: {bandwidth: 55 GB/s, latency: 4.7 us}",
                                              "  h2d: {bandwidth: 440 Gb/s, latency: 4.7 us}")),
                       at(16) + "pcie.h2d.bandwidth: bits are not accepted ('Gb/s'); that is 55 GB/s"));
  EXPECT_TRUE(contains(error_for(replace_line(kHardwareYaml, "  kernel_launch: 3.5 us", "  kernel_launch: 3.5")),
                       at(13) + "gpu.kernel_launch: missing unit in '3.5'; expected a duration such as '4.7 us'"));
}

TEST_F(HardwareFile, FileLevelErrors) {
  EXPECT_TRUE(
      contains(error_for(replace_line(kHardwareYaml, "  memory: 80 GiB", "  memory: [80 GiB")), "YAML syntax error"));
  EXPECT_TRUE(contains(error_for(replace_line(kHardwareYaml, "  reserved: 2.5 GiB", "  memory: 40 GiB")),
                       at(7) + "gpu.memory: duplicate key"));
  const std::string absent = (dir_.path() / "absent.yaml").string();
  EXPECT_TRUE(contains(error_of([&] { load_hardware(absent); }), "file not found: " + absent));
  EXPECT_TRUE(contains(error_of([&] { load_experiment(absent); }), absent + ": cannot open file"));
  EXPECT_TRUE(contains(error_for(""), "got nothing"));
}

TEST_F(HardwareFile, OverridesApplyInsideTheProfile) {
  const std::string file = dir_.write("hw.yaml", kHardwareYaml);
  const HardwareProfile hw =
      load_hardware(file, {.overrides = {"gpu.memory=40 GiB", "cpu.cores=8"}, .config_dirs = {}});
  EXPECT_EQ(hw.gpu.memory_bytes, 40.0 * 1073741824.0);
  EXPECT_EQ(hw.cpu.cores, 8);
  EXPECT_TRUE(contains(error_of([&] { load_hardware(file, {.overrides = {"cpu.cores=0"}, .config_dirs = {}}); }),
                       "--set cpu.cores: must be at least 1"));
}

}  // namespace
}  // namespace hgca
