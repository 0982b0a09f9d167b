// The keys of issue 8: hgca's paper preset, weight placement, the baselines' parameters, the host thread and
// NUMA sockets; their defaults (the old behaviour), their validation, and their round trip through the
// resolved configuration.
#include <gtest/gtest.h>

#include "config_test_support.hpp"
#include "sim/config/loader.hpp"

namespace hgca {
namespace {

using testing::contains;
using testing::error_of;
using testing::kExperimentYaml;

class PaperKeys : public ::testing::Test {
 protected:
  std::string with_system(const std::string& extra) {
    return std::string(kExperimentYaml) + extra;  // appended under system:
  }
  std::vector<Experiment> load(const std::string& text, std::vector<std::string> overrides = {}) {
    LoadOptions o;
    o.overrides = std::move(overrides);
    return load_experiment(testing::write_project(dir_, text), o);
  }
  std::string error_for(const std::string& text, std::vector<std::string> overrides = {}) {
    const std::string file = testing::write_project(dir_, text);
    LoadOptions o;
    o.overrides = std::move(overrides);
    return error_of([&] { load_experiment(file, o); });
  }
  testing::ScratchDir dir_;
};

TEST_F(PaperKeys, DefaultsKeepTheOldBehaviour) {
  const Experiment e = load(kExperimentYaml).at(0);
  EXPECT_EQ(e.system.preset, HgcaPreset::Default);
  EXPECT_EQ(e.system.weights_on_gpu, 1.0);
  EXPECT_TRUE(e.system.overlap_io);
  EXPECT_FALSE(e.system.attention_only);
  EXPECT_EQ(e.hardware.host.framework_op_s, 0.0);
  EXPECT_EQ(e.hardware.host.framework_step_s, 0.0);
  EXPECT_FALSE(e.hardware.host.shares_cpu_core);
  EXPECT_TRUE(e.hardware.cpu.socket_bandwidth_by_threads.empty());
  EXPECT_EQ(e.system.paper.block_size, 64);
  EXPECT_EQ(e.system.paper.gpu_blocks, 16);
  EXPECT_EQ(e.system.paper.recall_blocks, 2);
  EXPECT_EQ(e.system.paper.alpha, 0.5);
  EXPECT_EQ(e.system.paper.beta, 0.5);
  EXPECT_EQ(e.system.paper.head_groups, 4);
  EXPECT_EQ(e.system.paper.keep_min, 10);
}

TEST_F(PaperKeys, ReadsThePresetAndItsParameters) {
  const Experiment e =
      load(with_system("  preset: paper\n"
                       "  paper: {block_size: 32, gpu_blocks: 8, recall_blocks: 0, alpha: 0.9, beta: 1, head_groups: 2,\n"
                       "          keep_min: 4, selection: per-kv-head, threshold_over: context, recall_reload: false,\n"
                       "          framework_copies: false}\n"
                       "  weights_on_gpu: 0.25\n"
                       "  overlap_io: false\n"
                       "  h2o: {budget: 0.1, heavy_share: 0.3}\n"
                       "  infinigen: {budget: 0.15, partial_ratio: 0.3}\n"
                       "  flexgen: {cpu_attention: true, kv_on_gpu: 0.5}\n"))
          .at(0);
  const PaperSpec& p = e.system.paper;
  EXPECT_EQ(e.system.preset, HgcaPreset::Paper);
  EXPECT_EQ(p.block_size, 32);
  EXPECT_EQ(p.gpu_blocks, 8);
  EXPECT_EQ(p.recall_blocks, 0);
  EXPECT_EQ(p.alpha, 0.9);
  EXPECT_EQ(p.beta, 1.0);
  EXPECT_EQ(p.head_groups, 2);
  EXPECT_EQ(p.keep_min, 4);
  EXPECT_EQ(p.selection, PaperSelectionScope::KvHead);
  EXPECT_EQ(p.threshold_over, PaperThresholdBase::Context);
  EXPECT_FALSE(p.recall_reload);
  EXPECT_FALSE(p.framework_copies);
  EXPECT_EQ(e.system.weights_on_gpu, 0.25);
  EXPECT_FALSE(e.system.overlap_io);
  EXPECT_EQ(e.system.h2o.budget, 0.1);
  EXPECT_EQ(e.system.h2o.heavy_share, 0.3);
  EXPECT_EQ(e.system.infinigen.budget, 0.15);
  EXPECT_EQ(e.system.infinigen.partial_ratio, 0.3);
  EXPECT_TRUE(e.system.flexgen.cpu_attention);
  EXPECT_EQ(e.system.flexgen.kv_on_gpu, 0.5);
  // The resolved configuration reads back to the same point.
  testing::ScratchDir again;
  const std::string file = again.write("resolved.yaml", e.resolved_yaml);
  testing::expect_same_point(load_experiment(file).at(0), e);
}

TEST_F(PaperKeys, ThePaperPresetIgnoresTheTokenWindow) {
  // A 4096-token window exceeds a 1000-token context, which is an error for plain hgca but not for the
  // preset, whose window is gpu_blocks x block_size.
  EXPECT_TRUE(contains(error_for(kExperimentYaml, {"workload.prompt=900", "workload.decode=100"}), "system.window"));
  EXPECT_NO_THROW(load(with_system("  preset: paper\n"), {"workload.prompt=900", "workload.decode=100"}));
}

TEST_F(PaperKeys, BadValuesAreNamed) {
  EXPECT_TRUE(contains(error_for(with_system("  paper: {alpha: 1.5}\n")), "system.paper.alpha"));
  EXPECT_TRUE(contains(error_for(with_system("  paper: {selection: per-head}\n")), "system.paper.selection"));
  EXPECT_TRUE(contains(error_for(with_system("  paper: {gpu_blocks: 0}\n")), "system.paper.gpu_blocks"));
  EXPECT_TRUE(contains(error_for(with_system("  paper: {beta: 0}\n")), "system.paper.beta"));
  EXPECT_TRUE(contains(error_for(with_system("  paper: {window: 3}\n")), "system.paper.window"));
  EXPECT_TRUE(contains(error_for(with_system("  preset: fast\n")), "system.preset"));
  EXPECT_TRUE(contains(error_for(with_system("  weights_on_gpu: 0\n")), "system.weights_on_gpu"));
  EXPECT_TRUE(contains(error_for(with_system("  h2o: {budget: 2}\n")), "system.h2o.budget"));
  EXPECT_TRUE(contains(error_for(with_system("  flexgen: {kv_on_gpu: -0.1}\n")), "system.flexgen.kv_on_gpu"));
  EXPECT_TRUE(contains(error_for(kExperimentYaml, {"hardware.host.framework_op=-1 us"}), "hardware.host.framework_op"));
  EXPECT_TRUE(contains(error_for(kExperimentYaml, {"hardware.cpu.socket_bandwidth_by_threads={1: 10 GB/s}"}),
                       "hardware.cpu.socket_bandwidth_by_threads"));
}

TEST_F(PaperKeys, HostAndSocketsRoundTrip) {
  const Experiment e = load(kExperimentYaml, {"hardware.host={framework_op: 20 us, framework_step: 1 ms, shares_cpu_core: true}",
                                              "hardware.cpu.sockets=2",
                                              "hardware.cpu.socket_bandwidth_by_threads={1: 10 GB/s, 8: 60 GB/s}"})
                           .at(0);
  EXPECT_DOUBLE_EQ(e.hardware.host.framework_op_s, 20e-6);
  EXPECT_DOUBLE_EQ(e.hardware.host.framework_step_s, 1e-3);
  EXPECT_TRUE(e.hardware.host.shares_cpu_core);
  ASSERT_EQ(e.hardware.cpu.socket_bandwidth_by_threads.size(), 2u);
  EXPECT_EQ(e.hardware.cpu.socket_bandwidth_by_threads[1].first, 8);
  testing::ScratchDir again;
  const std::string file = again.write("resolved.yaml", e.resolved_yaml);
  testing::expect_same_point(load_experiment(file).at(0), e);
}

}  // namespace
}  // namespace hgca
