// Hardware and model references: by name (search order), by path, {base: …} with overrides, inline, chains.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include "config_test_support.hpp"
#include "sim/config/loader.hpp"

namespace hgca {
namespace {

using testing::contains;
using testing::error_of;
using testing::kExperimentYaml;
using testing::kHardwareYaml;
using testing::replace_line;

constexpr double kGiB = 1073741824.0;

class References : public ::testing::Test {
 protected:
  Experiment load_with(const std::string& hardware_lines, const LoadOptions& opts = {}) {
    const std::string file =
        testing::write_project(dir_, replace_line(kExperimentYaml, "hardware: test-hw", hardware_lines));
    return load_experiment(file, opts).at(0);
  }
  std::string error_with(const std::string& hardware_lines) {
    return error_of([&] { load_with(hardware_lines); });
  }
  std::string experiment_file() const { return (dir_.path() / "experiments" / "exp.yaml").string(); }
  // The test hardware profile with a different core count, to tell copies apart.
  static std::string hardware_with_cores(int cores) {
    return replace_line(kHardwareYaml, "  cores: 16", "  cores: " + std::to_string(cores));
  }
  testing::ScratchDir dir_;
};

TEST_F(References, ByNameFromTheProjectConfigs) {
  const Experiment e = load_with("hardware: test-hw");
  EXPECT_EQ(e.hardware.name, "test-hw");
  EXPECT_EQ(e.hardware.gpu.memory_bytes, 80 * kGiB);
}

TEST_F(References, ByPathRelativeToTheExperimentFile) {
  dir_.write("elsewhere/box.yaml", replace_line(hardware_with_cores(12), "name: test-hw", ""));
  const Experiment e = load_with("hardware: ../elsewhere/box.yaml");
  EXPECT_EQ(e.hardware.cpu.cores, 12);
  EXPECT_EQ(e.hardware.name, "box");  // no name key: the file stem
  EXPECT_TRUE(contains(
      error_with("hardware: ../elsewhere/nothere.yaml"),
      experiment_file() + ":3: hardware: file not found: " + (dir_.path() / "elsewhere" / "nothere.yaml").string()));
}

TEST_F(References, BaseWithOverrides) {
  const Experiment e = load_with("hardware: {base: test-hw, gpu: {memory: 40 GiB}, cpu: {cores: 8}}");
  EXPECT_EQ(e.hardware.gpu.memory_bytes, 40 * kGiB);
  EXPECT_EQ(e.hardware.cpu.cores, 8);
  EXPECT_EQ(e.hardware.gpu.hbm_bandwidth, 3e12);  // the rest comes from the base
  EXPECT_EQ(e.hardware.name, "test-hw");
  // A table keyed by numbers is replaced whole, not merged point by point.
  const std::vector<std::pair<int, double>> curve = {{2, 20e9}};
  EXPECT_EQ(load_with("hardware: {base: test-hw, cpu: {bandwidth_by_threads: {2: 20 GB/s}}}")
                .hardware.cpu.bandwidth_by_threads,
            curve);
  // An error in an override points at the experiment file; one in the base at the base file.
  EXPECT_TRUE(contains(error_with("hardware: {base: test-hw, gpu: {memory: 0 GiB}}"),
                       experiment_file() + ":3: hardware.gpu.memory: must be positive"));
  EXPECT_TRUE(contains(error_with("hardware: {base: test-hw, gpu: {memroy: 1 GiB}}"),
                       experiment_file() + ":3: hardware.gpu.memroy: unknown key (did you mean 'memory'?)"));
  dir_.write("configs/hw/broken.yaml", replace_line(kHardwareYaml, "  cores: 16", "  cores: 0"));
  EXPECT_TRUE(contains(
      error_with("hardware: {base: broken}"),
      (dir_.path() / "configs" / "hw" / "broken.yaml").string() + ":23: hardware.cpu.cores: must be at least 1"));
  EXPECT_TRUE(contains(error_with("hardware: {base: [test-hw]}"), experiment_file() + ":3: hardware.base: got a list"));
}

TEST_F(References, FullInlineProfile) {
  std::string indented = "hardware:\n";
  for (size_t start = 0; start < std::string(kHardwareYaml).size();) {
    const std::string text = kHardwareYaml;
    const size_t end = text.find('\n', start);
    indented += "  " + text.substr(start, end - start) + "\n";
    start = end + 1;
  }
  indented = replace_line(indented, "  name: test-hw", "  name: inline-box");
  const Experiment e = load_with(indented);
  EXPECT_EQ(e.hardware.name, "inline-box");
  EXPECT_EQ(e.hardware.cpu.cores, 16);
  // Line numbers inside an inline profile are those of the experiment file (profile line 23 is line 26 here).
  EXPECT_TRUE(contains(error_with(replace_line(indented, "    cores: 16", "    cores: 0")),
                       experiment_file() + ":26: hardware.cpu.cores: must be at least 1"));
  EXPECT_TRUE(contains(error_with("hardware: 5"), "unknown hardware profile '5'"));
  EXPECT_TRUE(contains(error_with("hardware: [a, b]"), experiment_file() + ":3: hardware: got a list"));
}

TEST_F(References, ProfileFilesMayStartFromABase) {
  dir_.write("configs/hw/test-hw-40g.yaml", "base: test-hw\nname: test-hw-40g\ngpu: {memory: 40 GiB}\n");
  const Experiment e = load_with("hardware: test-hw-40g");
  EXPECT_EQ(e.hardware.name, "test-hw-40g");
  EXPECT_EQ(e.hardware.gpu.memory_bytes, 40 * kGiB);
  EXPECT_EQ(e.hardware.cpu.cores, 16);

  dir_.write("configs/hw/loop-a.yaml", "base: loop-b\n");
  dir_.write("configs/hw/loop-b.yaml", "base: loop-a\n");
  EXPECT_TRUE(contains(error_with("hardware: loop-a"), "nested bases (a cycle?)"));
}

TEST_F(References, UnknownNameListsTheKnownOnes) {
  dir_.write("configs/hw/other-box.yaml", kHardwareYaml);
  const std::string message = error_with("hardware: test-hv");
  EXPECT_TRUE(contains(
      message, experiment_file() + ":3: hardware: unknown hardware profile 'test-hv' (did you mean 'test-hw'?)"));
  // Other directories on the search path (the source tree's configs/) may add names of their own.
  EXPECT_TRUE(contains(message, "; expected one of "));
  EXPECT_TRUE(contains(message, "other-box, "));
  EXPECT_TRUE(contains(message, "(searched " + (dir_.path() / "configs" / "hw").string() + ", "));
}

TEST_F(References, SearchOrder) {
  // The experiment's ../configs wins over config_dirs, which win over $HGCA_CONFIG_PATH.
  testing::ScratchDir extra, env;
  extra.write("hw/test-hw.yaml", hardware_with_cores(4));
  extra.write("hw/only-extra.yaml", hardware_with_cores(5));
  env.write("hw/only-extra.yaml", hardware_with_cores(6));
  env.write("hw/only-env.yaml", hardware_with_cores(7));
  ASSERT_EQ(setenv("HGCA_CONFIG_PATH", ("/nonexistent:" + env.path().string()).c_str(), 1), 0);
  const LoadOptions opts{.overrides = {}, .config_dirs = {extra.path().string()}};
  EXPECT_EQ(load_with("hardware: test-hw", opts).hardware.cpu.cores, 16);
  EXPECT_EQ(load_with("hardware: only-extra", opts).hardware.cpu.cores, 5);
  EXPECT_EQ(load_with("hardware: only-env", opts).hardware.cpu.cores, 7);
  unsetenv("HGCA_CONFIG_PATH");
  EXPECT_TRUE(
      contains(error_of([&] { load_with("hardware: only-env", opts); }), "unknown hardware profile 'only-env'"));
}

TEST_F(References, WorkingDirectoryConfigsComeLast) {
  testing::ScratchDir cwd;
  cwd.write("configs/hw/from-cwd.yaml", hardware_with_cores(3));
  const std::filesystem::path before = std::filesystem::current_path();
  std::filesystem::current_path(cwd.path());
  const int cores = load_with("hardware: from-cwd").hardware.cpu.cores;
  std::filesystem::current_path(before);
  EXPECT_EQ(cores, 3);
}

TEST_F(References, LoadHardwareAndModelAlone) {
  testing::ScratchDir configs;
  configs.write("hw/alone.yaml", hardware_with_cores(9));
  configs.write("models/alone-model.yaml", testing::kModelYaml);
  const LoadOptions opts{.overrides = {}, .config_dirs = {configs.path().string()}};
  EXPECT_EQ(load_hardware("alone", opts).cpu.cores, 9);
  EXPECT_EQ(load_hardware((configs.path() / "hw" / "alone.yaml").string()).cpu.cores, 9);
  EXPECT_EQ(load_model("alone-model", opts).layers, 32);
  EXPECT_EQ(load_model("alone-model", opts).name, "test-model");  // the file's own name key
  EXPECT_TRUE(contains(error_of([&] { load_model("alonemodel", opts); }),
                       "unknown model 'alonemodel' (did you mean 'alone-model'?)"));
}

TEST_F(References, ModelByNameAndWithBase) {
  std::string text =
      replace_line(kExperimentYaml, "model: test-model", "model: {base: test-model, layers: 8, kv_dtype: int8}");
  const Experiment e = load_experiment(testing::write_project(dir_, text)).at(0);
  EXPECT_EQ(e.model.layers, 8);
  EXPECT_EQ(e.model.kv_bytes_per_elem, 1.0);
  EXPECT_EQ(e.model.q_heads, 32);
  EXPECT_EQ(e.model.name, "test-model");
}

}  // namespace
}  // namespace hgca
