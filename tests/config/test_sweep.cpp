// Sweep expansion: order, labels, values at each point, and sweep errors.
#include <gtest/gtest.h>

#include "config_test_support.hpp"
#include "sim/config/loader.hpp"

namespace hgca {
namespace {

using testing::contains;
using testing::error_of;
using testing::kExperimentYaml;
using testing::replace_line;

class Sweeps : public ::testing::Test {
 protected:
  std::vector<Experiment> load(const std::string& sweep, const std::string& base = kExperimentYaml) {
    return load_experiment(testing::write_project(dir_, base + sweep));
  }
  std::string error_for(const std::string& sweep, const std::string& base = kExperimentYaml) {
    return error_of([&] { load(sweep, base); });
  }
  std::string at(int line) const {
    return (dir_.path() / "experiments" / "exp.yaml").string() + ":" + std::to_string(line) + ": ";
  }
  testing::ScratchDir dir_;
};

TEST_F(Sweeps, ProductThenZipInOrder) {
  const std::vector<Experiment> points = load(
      "sweep:\n"
      "  product: {system.strategy: [gpu-full, hgca], workload.prompt: [8192, 32768]}\n"
      "  zip: {system.window: [1024, 2048], workload.batch: [8, 16]}\n");
  ASSERT_EQ(points.size(), 8u);
  // First product key outermost, last fastest, the zip innermost.
  struct Expected {
    const char* strategy;
    int64_t prompt;
    int64_t window;
    int batch;
  };
  const Expected expected[] = {{"gpu-full", 8192, 1024, 8},  {"gpu-full", 8192, 2048, 16},
                               {"gpu-full", 32768, 1024, 8}, {"gpu-full", 32768, 2048, 16},
                               {"hgca", 8192, 1024, 8},      {"hgca", 8192, 2048, 16},
                               {"hgca", 32768, 1024, 8},     {"hgca", 32768, 2048, 16}};
  for (size_t i = 0; i < 8; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(points[i].system.strategy, expected[i].strategy);
    EXPECT_EQ(points[i].workload.prompt, expected[i].prompt);
    EXPECT_EQ(points[i].system.window, expected[i].window);
    EXPECT_EQ(points[i].workload.batch, expected[i].batch);
    EXPECT_EQ(points[i].name, "quick");
    EXPECT_EQ(points[i].seed, 7u);  // unswept keys are the same everywhere
  }
  EXPECT_EQ(points[0].point_label, "system.strategy=gpu-full workload.prompt=8192 system.window=1024 workload.batch=8");
  EXPECT_EQ(points[5].point_label, "system.strategy=hgca workload.prompt=8192 system.window=2048 workload.batch=16");
}

TEST_F(Sweeps, ProductAloneAndZipAlone) {
  const std::vector<Experiment> product = load("sweep:\n  product: {workload.batch: [1, 2, 4]}\n");
  ASSERT_EQ(product.size(), 3u);
  EXPECT_EQ(product[2].workload.batch, 4);
  EXPECT_EQ(product[2].point_label, "workload.batch=4");
  const std::vector<Experiment> zip = load("sweep:\n  zip: {workload.batch: [1, 2], seed: [10, 20]}\n");
  ASSERT_EQ(zip.size(), 2u);
  EXPECT_EQ(zip[1].seed, 20u);
  EXPECT_EQ(zip[1].point_label, "workload.batch=2 seed=20");
}

TEST_F(Sweeps, NoSweepIsOneUnlabelledPoint) {
  const std::vector<Experiment> points = load("");
  ASSERT_EQ(points.size(), 1u);
  EXPECT_EQ(points[0].point_label, "");
}

TEST_F(Sweeps, HardwareNamesAndKeysInsideHardware) {
  dir_.write("configs/hw/small-hw.yaml",
             replace_line(replace_line(testing::kHardwareYaml, "name: test-hw", "name: small-hw"), "  cores: 16",
                          "  cores: 4"));
  const std::vector<Experiment> by_name = load("sweep:\n  product: {hardware: [test-hw, small-hw]}\n");
  ASSERT_EQ(by_name.size(), 2u);
  EXPECT_EQ(by_name[1].hardware.name, "small-hw");
  EXPECT_EQ(by_name[1].hardware.cpu.cores, 4);
  EXPECT_EQ(by_name[1].point_label, "hardware=small-hw");

  const std::string map_form = replace_line(kExperimentYaml, "hardware: test-hw", "hardware: {base: test-hw}");
  for (const std::string& base : {map_form, std::string(kExperimentYaml)}) {  // a name becomes {base: name}
    const std::vector<Experiment> memory = load("sweep:\n  product: {hardware.gpu.memory: [40 GiB, 80 GiB]}\n", base);
    ASSERT_EQ(memory.size(), 2u);
    EXPECT_EQ(memory[0].hardware.gpu.memory_bytes, 40 * 1073741824.0);
    EXPECT_EQ(memory[1].hardware.gpu.memory_bytes, 80 * 1073741824.0);
    EXPECT_EQ(memory[0].hardware.cpu.cores, 16);
    EXPECT_EQ(memory[0].point_label, "hardware.gpu.memory=40 GiB");
  }
}

TEST_F(Sweeps, MapValues) {
  const std::vector<Experiment> points = load(
      "sweep:\n  product:\n    system.selection: [{source: topk, top_k: 64}, {source: fraction, fraction: 0.1}]\n");
  ASSERT_EQ(points.size(), 2u);
  EXPECT_EQ(points[0].system.selection.source, SelectionSource::TopK);
  EXPECT_EQ(points[0].system.selection.top_k, 64);
  EXPECT_EQ(points[1].system.selection.fraction, 0.1);
  EXPECT_EQ(points[0].point_label, "system.selection={source: topk, top_k: 64}");
}

TEST_F(Sweeps, ErrorAtAPointNamesTheSweepLineAndThePoint) {
  const std::string message = error_for("sweep:\n  product: {system.window: [1024, 0]}\n");
  EXPECT_TRUE(contains(message, at(28) + "system.window: must be at least 1 for strategy hgca, got 0"));
  EXPECT_TRUE(contains(message, "(at sweep point system.window=0)"));
}

TEST_F(Sweeps, MalformedSweeps) {
  EXPECT_TRUE(contains(
      error_for("sweep:\n  zip: {system.window: [1024, 2048], workload.batch: [8]}\n"),
      at(28) +
          "sweep.zip.workload.batch: 1 values, but sweep.zip.system.window has 2; expected zip lists of equal length"));
  EXPECT_TRUE(contains(error_for("sweep:\n  product: {system.window: []}\n"),
                       at(28) + "sweep.product.system.window: empty list"));
  EXPECT_TRUE(contains(error_for("sweep:\n  product: {system.window: 1024}\n"),
                       at(28) + "sweep.product.system.window: got a scalar"));
  EXPECT_TRUE(contains(error_for("sweep:\n  prodcut: {system.window: [1]}\n"),
                       at(28) + "sweep.prodcut: unknown key (did you mean 'product'?)"));
  EXPECT_TRUE(contains(error_for("sweep:\n  product: {system.selection: [{}], system.selection.fraction: [0.1]}\n"),
                       "sweep: 'system.selection.fraction' overlaps 'system.selection', swept already"));
  EXPECT_TRUE(contains(error_for("sweep:\n  product: {system.window: [1024]}\n  zip: {system.window: [2048]}\n"),
                       "sweep: 'system.window' overlaps 'system.window'"));
  EXPECT_TRUE(contains(error_for("sweep:\n  product: {system.windw: [1024]}\n"),
                       at(28) + "system.windw: unknown key (did you mean 'window'?)"));
}

}  // namespace
}  // namespace hgca
