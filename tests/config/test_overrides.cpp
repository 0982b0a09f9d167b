// --set overrides (LoadOptions::overrides): applied before validation, reported as "--set key".
#include <gtest/gtest.h>

#include "config_test_support.hpp"
#include "sim/config/loader.hpp"

namespace hgca {
namespace {

using testing::contains;
using testing::error_of;
using testing::kExperimentYaml;
using testing::replace_line;

class Overrides : public ::testing::Test {
 protected:
  std::vector<Experiment> load(std::vector<std::string> sets, const std::string& text = kExperimentYaml) {
    return load_experiment(testing::write_project(dir_, text), {.overrides = std::move(sets), .config_dirs = {}});
  }
  std::string error_for(std::vector<std::string> sets, const std::string& text = kExperimentYaml) {
    return error_of([&] { load(std::move(sets), text); });
  }
  testing::ScratchDir dir_;
};

TEST_F(Overrides, ScalarsAndFlowNodes) {
  const Experiment e = load({"system.window=2048", "workload.batch=16", "system.selection={source: topk, top_k: 512}",
                             "system.strategy=window-only", "name=renamed"})
                           .at(0);
  EXPECT_EQ(e.system.window, 2048);
  EXPECT_EQ(e.workload.batch, 16);
  EXPECT_EQ(e.system.selection.source, SelectionSource::TopK);
  EXPECT_EQ(e.system.selection.top_k, 512);
  EXPECT_EQ(e.system.selection.granularity, SelectionGranularity::QueryHead);  // the whole map was replaced
  EXPECT_EQ(e.system.strategy, "window-only");
  EXPECT_EQ(e.name, "renamed");
}

TEST_F(Overrides, LaterOverridesWin) {
  EXPECT_EQ(load({"system.window=2048", "system.window=1024"}).at(0).system.window, 1024);
}

TEST_F(Overrides, CreateMissingBlocksAndIndexLists) {
  const std::string minimal =
      "hardware: test-hw\nmodel: test-model\nworkload: {requests: [{prompt: 9000, decode: 4}, {prompt: 9000, decode: "
      "4}]}\n";
  const Experiment e = load({"system.sinks=16", "workload.requests.1.prompt=12000"}, minimal).at(0);
  EXPECT_EQ(e.system.sinks, 16);
  EXPECT_EQ(e.workload.requests[1].prompt, 12000);
  EXPECT_TRUE(contains(error_for({"workload.requests.2.prompt=1"}, minimal),
                       "--set workload.requests.2.prompt: workload.requests is a list of 2 items"));
}

TEST_F(Overrides, ReachIntoAHardwareReferenceByName) {
  const Experiment e = load({"hardware.gpu.memory=40 GiB", "model.layers=8"}).at(0);
  EXPECT_EQ(e.hardware.gpu.memory_bytes, 40 * 1073741824.0);
  EXPECT_EQ(e.hardware.name, "test-hw");
  EXPECT_EQ(e.hardware.cpu.cores, 16);
  EXPECT_EQ(e.model.layers, 8);
  // A whole other profile by name.
  dir_.write("configs/hw/other.yaml", replace_line(testing::kHardwareYaml, "name: test-hw", "name: other"));
  EXPECT_EQ(load({"hardware=other"}).at(0).hardware.name, "other");
}

TEST_F(Overrides, ErrorsNameTheSet) {
  EXPECT_TRUE(
      contains(error_for({"system.window=0"}), "--set system.window: must be at least 1 for strategy hgca, got 0"));
  EXPECT_TRUE(contains(error_for({"system.windw=5"}), "--set system.windw: unknown key (did you mean 'window'?)"));
  EXPECT_TRUE(contains(error_for({"hardware.gpu.memory=40 Gb"}), "--set hardware.gpu.memory: bits are not accepted"));
  EXPECT_TRUE(contains(error_for({"system.selection={source: topk}"}),
                       "--set system.selection: system.selection.top_k: missing required key for source topk"));
  EXPECT_TRUE(
      contains(error_for({"system.selection={source: topk"}), "--set system.selection: YAML syntax error in value"));
  EXPECT_TRUE(contains(error_for({"workload.batch.x=1"}),
                       "--set workload.batch.x: workload.batch is a scalar '8', so nothing can be set inside it"));
}

TEST_F(Overrides, Malformed) {
  EXPECT_TRUE(contains(error_for({"system.window"}), "malformed override 'system.window'; expected key.path=value"));
  EXPECT_TRUE(contains(error_for({"=5"}), "malformed override '=5'"));
  EXPECT_TRUE(contains(error_for({"system..window=5"}), "malformed key path 'system..window'"));
}

TEST_F(Overrides, ConflictWithTheSweepIsAnError) {
  const std::string swept = std::string(kExperimentYaml) + "sweep:\n  product: {system.window: [1024, 2048]}\n";
  const std::string message = error_for({"system.window=512"}, swept);
  EXPECT_TRUE(contains(message, "--set system.window: conflicts with the sweep over system.window ("));
  EXPECT_TRUE(contains(error_for({"system=null"}, swept), "--set system: conflicts with the sweep over system.window"));
  EXPECT_TRUE(contains(error_for({"sweep.zip={workload.batch: [1]}"}, swept),
                       "--set sweep.zip: --set cannot change the sweep"));
  // A key the sweep does not touch is fine, and applies to every point.
  const std::vector<Experiment> points = load({"system.sinks=8"}, swept);
  ASSERT_EQ(points.size(), 2u);
  EXPECT_EQ(points[0].system.sinks, 8);
  EXPECT_EQ(points[1].system.sinks, 8);
}

}  // namespace
}  // namespace hgca
