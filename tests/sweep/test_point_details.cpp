#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "sim/config/loader.hpp"
#include "sim/sweep/point_details.hpp"

namespace hgca {
namespace {

// The quickstart point of `strategy` at 65536 tokens of context (window 4096, 4 sinks, Llama-3.1-8B).
Experiment point(const std::vector<std::string>& sets, const std::string& strategy = "hgca") {
  LoadOptions lo;
  lo.overrides = sets;
  lo.overrides.push_back("workload.decode=1");
  for (auto& p : load_experiment(std::string(HGCA_SOURCE_DIR) + "/experiments/quickstart.yaml", lo))
    if (p.system.strategy == strategy && p.workload.prompt == 65536) return p;
  throw std::runtime_error("no such quickstart point");
}

const Parameter& find(const std::vector<Parameter>& ps, const std::string& key) {
  for (const auto& p : ps)
    if (p.key == key) return p;
  throw std::runtime_error("no parameter " + key);
}

TEST(PointDetails, ParametersAreTheConfigurationInSiUnits) {
  const Experiment p = point({"hardware.cpu.cores=32", "hardware.pcie.h2d.bandwidth=25 GB/s", "system.cpu_schedule=static"});
  const auto ps = point_parameters(p);
  std::set<std::string> keys;
  for (const auto& q : ps) EXPECT_TRUE(keys.insert(q.key).second) << q.key;
  EXPECT_EQ(find(ps, "hardware.cpu.cores").number, 32);
  EXPECT_EQ(find(ps, "hardware.pcie.h2d.bandwidth").number, 25e9);
  EXPECT_EQ(find(ps, "hardware.pcie.h2d.bandwidth").unit, "B/s");
  EXPECT_EQ(find(ps, "hardware.gpu.memory").number, 80.0 * 1024 * 1024 * 1024);
  EXPECT_TRUE(find(ps, "system.cpu_schedule").is_text);
  EXPECT_EQ(find(ps, "system.cpu_schedule").text, "static");
  EXPECT_EQ(find(ps, "system.selection.source").text, "distribution");
}

TEST(PointDetails, AFixedFractionGivesEveryHeadThatFraction) {
  RunResult run;
  add_point_details(point({"system.selection={source: fraction, fraction: 0.05}"}), run);
  ASSERT_EQ(run.head_selection.layers, 32);  // Llama-3.1-8B
  ASSERT_EQ(run.head_selection.heads, 32);
  ASSERT_EQ(run.head_selection.fraction.size(), 32u * 32u);
  for (double f : run.head_selection.fraction) EXPECT_DOUBLE_EQ(f, 0.05);
  EXPECT_NEAR(find(run.parameters, "selection.mean_fraction").number, 0.05, 1e-12);
}

TEST(PointDetails, ATopKBudgetIsShownAsAShareOfTheCpuResidentEntries) {
  // 65536 prompt - (4096 window + 4 sinks) = 61436 CPU-resident entries; 512 of them selected.
  RunResult run;
  add_point_details(point({"system.selection={source: topk, top_k: 512}"}), run);
  ASSERT_FALSE(run.head_selection.fraction.empty());
  for (double f : run.head_selection.fraction) EXPECT_DOUBLE_EQ(f, 512.0 / 61436.0);
}

TEST(PointDetails, ADistributionSpreadsHeadsWithinItsClamps) {
  RunResult run;
  add_point_details(point({}), run);  // median 1%, sigma 1.5, clamped to [0.1%, 40%]
  const auto& f = run.head_selection.fraction;
  ASSERT_EQ(f.size(), 1024u);
  const auto [lo, hi] = std::minmax_element(f.begin(), f.end());
  EXPECT_GE(*lo, 0.001);
  EXPECT_LE(*hi, 0.4);
  EXPECT_GT(*hi / *lo, 10.0);  // heads differ a lot
  std::vector<double> sorted(f);
  std::sort(sorted.begin(), sorted.end());
  EXPECT_NEAR(sorted[sorted.size() / 2], 0.01, 0.004);  // the median of 1024 draws of a log-normal
}

TEST(PointDetails, StrategiesThatDoNotSelectOnTheCpuHaveNoHeadSelection) {
  for (const char* strategy : {"gpu-full", "offload-fetch", "cpu-full", "window-only"}) {
    RunResult run;
    add_point_details(point({}, strategy), run);
    EXPECT_TRUE(run.head_selection.fraction.empty()) << strategy;
    EXPECT_TRUE(std::isnan(find(run.parameters, "selection.mean_fraction").number)) << strategy;
  }
}

}  // namespace
}  // namespace hgca
