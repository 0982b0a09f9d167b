// resolved_yaml: the fully resolved point as YAML that load_experiment reads back to the same point.
#include <gtest/gtest.h>

#include "config_test_support.hpp"
#include "sim/config/loader.hpp"
#include "sim/config/yaml_writer.hpp"

namespace hgca {
namespace {

using testing::contains;
using testing::kExperimentYaml;
using testing::replace_line;

// Drops the first line (a comment naming the source file and sweep point, which differ after the round trip).
std::string body(const std::string& yaml) { return yaml.substr(yaml.find('\n') + 1); }

class ResolvedYaml : public ::testing::Test {
 protected:
  // Writes each point's resolved_yaml to its own file, reloads it, and checks it is the same point.
  void expect_round_trip(const std::vector<Experiment>& points) {
    for (size_t i = 0; i < points.size(); ++i) {
      SCOPED_TRACE(points[i].point_label);
      // A directory with no configs near it: the resolved file must not need any reference.
      const std::string file = dir_.write("resolved/" + std::to_string(i) + ".yaml", points[i].resolved_yaml);
      const std::vector<Experiment> again = load_experiment(file);
      ASSERT_EQ(again.size(), 1u);
      EXPECT_EQ(again[0].point_label, "");
      testing::expect_same_point(points[i], again[0]);
      EXPECT_EQ(body(again[0].resolved_yaml), body(points[i].resolved_yaml));
    }
  }
  testing::ScratchDir dir_;
};

TEST_F(ResolvedYaml, InlinesReferencesAndDropsTheSweep) {
  const std::string text = std::string(kExperimentYaml) + "sweep:\n  product: {system.window: [1024, 2048]}\n";
  const std::vector<Experiment> points =
      load_experiment(testing::write_project(dir_, text), {.overrides = {"system.sinks=8"}, .config_dirs = {}});
  ASSERT_EQ(points.size(), 2u);
  const std::string& yaml = points[1].resolved_yaml;
  EXPECT_TRUE(contains(yaml, "sweep point: system.window=2048"));
  EXPECT_EQ(body(yaml).find("sweep"), std::string::npos) << yaml;
  EXPECT_TRUE(contains(yaml, "hbm_bandwidth: 3 TB/s"));  // the hardware profile, inline, with units
  EXPECT_TRUE(contains(yaml, "memory: 80 GiB"));
  EXPECT_TRUE(contains(yaml, "head_dim: 128"));  // the model, inline
  EXPECT_TRUE(contains(yaml, "window: 2048"));
  EXPECT_TRUE(contains(yaml, "sinks: 8"));  // the override applied
  expect_round_trip(points);
}

TEST_F(ResolvedYaml, RoundTripsEveryForm) {
  // Base with overrides, explicit requests, a selection profile, awkward figures and text.
  dir_.write("profiles/p.h5", "only existence is checked");
  std::string text = replace_line(kExperimentYaml, "hardware: test-hw",
                                  "hardware: {base: test-hw, gpu: {memory: 39.7 GiB, kernel_launch: 3.3333 us}, "
                                  "cpu: {bandwidth_by_threads: {1: 12.345 GB/s, 3: 33.3 GiB/s}}}");
  text = replace_line(text, "description: \"a test\"", "description: \"quotes \\\" colons: and # hashes\"");
  text = replace_line(text, "  batch: 8", "  requests: [{prompt: 5000, decode: 10}, {prompt: 7000, decode: 5}]");
  text = replace_line(text, "  prompt: 32768", "");
  text = replace_line(text, "  decode: 64", "");
  text = replace_line(
      text, "  selection: {source: fraction, fraction: 0.05, granularity: query-head}",
      "  selection: {source: profile, path: ../profiles/p.h5, fraction: 0.1234567890123, granularity: kv-head}");
  text = replace_line(text, "model: test-model", "model: {base: test-model, kv_dtype: int4}");
  const std::vector<Experiment> points = load_experiment(testing::write_project(dir_, text));
  ASSERT_EQ(points.size(), 1u);
  EXPECT_EQ(points[0].description, "quotes \" colons: and # hashes");
  EXPECT_EQ(points[0].model.kv_bytes_per_elem, 0.5);
  expect_round_trip(points);
}

TEST_F(ResolvedYaml, RoundTripsEveryStrategyAndEnumeration) {
  const std::string text = std::string(kExperimentYaml) +
                           "sweep:\n  product:\n"
                           "    system.strategy: [gpu-full, hgca, offload-fetch, cpu-full, window-only, fetch-topk]\n"
                           "    system.selection_method: [key-scan, block-summary, reuse-last]\n"
                           "  zip:\n"
                           "    system.cpu_task: [head, kv-head, sequence]\n"
                           "    system.cpu_schedule: [static, dynamic, static]\n"
                           "    system.pinned: [true, false, true]\n";
  const std::vector<Experiment> points = load_experiment(testing::write_project(dir_, text));
  ASSERT_EQ(points.size(), 54u);
  expect_round_trip(points);
}

TEST(YamlWriter, HardwareProfileReadsBack) {
  testing::ScratchDir dir;
  const HardwareProfile hw = load_hardware(dir.write("hw.yaml", testing::kHardwareYaml));
  const HardwareProfile again = load_hardware(dir.write("again.yaml", hardware_to_yaml(hw)));
  EXPECT_EQ(hardware_to_yaml(again), hardware_to_yaml(hw));
  EXPECT_EQ(again.cpu.bandwidth_by_threads, hw.cpu.bandwidth_by_threads);
  EXPECT_EQ(again.gpu.kernel_launch_s, hw.gpu.kernel_launch_s);
  const ModelShape m = load_model(dir.write("m.yaml", testing::kModelYaml));
  EXPECT_EQ(model_to_yaml(load_model(dir.write("m2.yaml", model_to_yaml(m)))), model_to_yaml(m));
}

}  // namespace
}  // namespace hgca
