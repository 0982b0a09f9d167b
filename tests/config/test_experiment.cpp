// Experiment files: workload and system blocks, their defaults, and every validation error.
#include <gtest/gtest.h>

#include "config_test_support.hpp"
#include "sim/config/loader.hpp"

namespace hgca {
namespace {

using testing::contains;
using testing::error_of;
using testing::kExperimentYaml;
using testing::replace_line;

class ExperimentFile : public ::testing::Test {
 protected:
  Experiment load_one(const std::string& text) {
    const std::vector<Experiment> points = load_experiment(testing::write_project(dir_, text));
    EXPECT_EQ(points.size(), 1u);
    return points.at(0);
  }
  std::string error_for(const std::string& text) {
    const std::string file = testing::write_project(dir_, text);
    return error_of([&] { load_experiment(file); });
  }
  std::string at(int line) const {
    return (dir_.path() / "experiments" / "exp.yaml").string() + ":" + std::to_string(line) + ": ";
  }
  std::string with_system_line(const std::string& old_line, const std::string& new_line) {
    return replace_line(kExperimentYaml, old_line, new_line);
  }
  testing::ScratchDir dir_;
};

TEST_F(ExperimentFile, ReadsEveryKey) {
  const Experiment e = load_one(kExperimentYaml);
  EXPECT_EQ(e.name, "quick");
  EXPECT_EQ(e.description, "a test");
  EXPECT_EQ(e.seed, 7u);
  EXPECT_EQ(e.point_label, "");
  EXPECT_EQ(e.source_file, (dir_.path() / "experiments" / "exp.yaml").string());
  EXPECT_EQ(e.hardware.name, "test-hw");
  EXPECT_EQ(e.hardware.cpu.cores, 16);
  EXPECT_EQ(e.model.name, "test-model");
  EXPECT_EQ(e.model.layers, 32);
  EXPECT_EQ(e.workload.batch, 8);
  EXPECT_EQ(e.workload.prompt, 32768);
  EXPECT_EQ(e.workload.decode, 64);
  EXPECT_EQ(e.workload.prefill_chunk, 4096);
  EXPECT_TRUE(e.workload.simulate_prefill);
  EXPECT_TRUE(e.workload.requests.empty());
  EXPECT_EQ(e.system.strategy, "hgca");
  EXPECT_EQ(e.system.window, 4096);
  EXPECT_EQ(e.system.sinks, 4);
  EXPECT_EQ(e.system.eviction_batch, 64);
  EXPECT_EQ(e.system.selection.source, SelectionSource::Fraction);
  EXPECT_EQ(e.system.selection.fraction, 0.05);
  EXPECT_EQ(e.system.selection.granularity, SelectionGranularity::QueryHead);
  EXPECT_EQ(e.system.selection_method, SelectionMethod::KeyScan);
  EXPECT_EQ(e.system.summary_block, 16);
  EXPECT_EQ(e.system.reselect_interval, 8);
  EXPECT_EQ(e.system.cpu_threads, 0);
  EXPECT_EQ(e.system.cpu_schedule, CpuSchedule::Dynamic);
  EXPECT_EQ(e.system.cpu_task, CpuTaskGranularity::Head);
  EXPECT_EQ(e.system.prefetch_layers, 1);
  EXPECT_TRUE(e.system.pinned);
  EXPECT_EQ(e.system.activation_tokens, 0);
}

TEST_F(ExperimentFile, MinimalFileTakesDefaults) {
  const Experiment e = load_one("hardware: test-hw\nmodel: test-model\nworkload: {prompt: 8192, decode: 16}\n");
  EXPECT_EQ(e.name, "exp");  // the file stem
  EXPECT_EQ(e.description, "");
  EXPECT_EQ(e.seed, 1u);
  EXPECT_EQ(e.workload.batch, 1);
  EXPECT_EQ(e.workload.prefill_chunk, 0);
  const SystemSpec defaults;
  EXPECT_EQ(e.system.strategy, defaults.strategy);
  EXPECT_EQ(e.system.window, defaults.window);
  EXPECT_EQ(e.system.sinks, defaults.sinks);
  EXPECT_EQ(e.system.selection.fraction, defaults.selection.fraction);
  EXPECT_EQ(e.system.selection.sigma, defaults.selection.sigma);
  EXPECT_EQ(e.system.cpu_schedule, defaults.cpu_schedule);
}

TEST_F(ExperimentFile, EnumerationsByName) {
  std::string text = with_system_line("  selection_method: key-scan", "  selection_method: block-summary");
  text = replace_line(text, "  cpu_schedule: dynamic", "  cpu_schedule: static");
  text = replace_line(text, "  cpu_task: head", "  cpu_task: kv-head");
  text = replace_line(text, "  selection: {source: fraction, fraction: 0.05, granularity: query-head}",
                      "  selection: {source: distribution, median_fraction: 0.02, sigma: 1, min_fraction: 0.001, "
                      "max_fraction: 0.3, granularity: kv-head}");
  const Experiment e = load_one(text);
  EXPECT_EQ(e.system.selection_method, SelectionMethod::BlockSummary);
  EXPECT_EQ(e.system.cpu_schedule, CpuSchedule::Static);
  EXPECT_EQ(e.system.cpu_task, CpuTaskGranularity::KvHead);
  EXPECT_EQ(e.system.selection.source, SelectionSource::Distribution);
  EXPECT_EQ(e.system.selection.granularity, SelectionGranularity::KvHead);
  EXPECT_EQ(e.system.selection.median_fraction, 0.02);
  EXPECT_EQ(e.system.selection.sigma, 1.0);
  EXPECT_EQ(e.system.selection.min_fraction, 0.001);
  EXPECT_EQ(e.system.selection.max_fraction, 0.3);

  text = replace_line(kExperimentYaml, "  selection_method: key-scan", "  selection_method: reuse-last");
  text = replace_line(text, "  cpu_task: head", "  cpu_task: sequence");
  EXPECT_EQ(load_one(text).system.selection_method, SelectionMethod::ReuseLast);
  EXPECT_EQ(load_one(text).system.cpu_task, CpuTaskGranularity::Sequence);
  text = replace_line(kExperimentYaml, "  selection_method: key-scan", "  selection_method: given");
  EXPECT_EQ(load_one(text).system.selection_method, SelectionMethod::Given);
}

TEST_F(ExperimentFile, ExplicitRequests) {
  std::string text = replace_line(kExperimentYaml, "  batch: 8",
                                  "  requests: [{prompt: 5000, decode: 10}, {prompt: 7000, decode: 5}]");
  text = replace_line(text, "  prompt: 32768", "");
  text = replace_line(text, "  decode: 64", "");
  const Experiment e = load_one(text);
  ASSERT_EQ(e.workload.requests.size(), 2u);
  EXPECT_EQ(e.workload.batch, 2);
  EXPECT_EQ(e.workload.requests[1].prompt, 7000);
  EXPECT_EQ(e.workload.requests[1].decode, 5);
  EXPECT_EQ(e.workload.prompt, 7000);  // the longest prompt
  EXPECT_EQ(e.workload.decode, 10);    // the longest decode

  // The window check uses the longest request: 7005 tokens.
  EXPECT_TRUE(contains(error_for(replace_line(text, "  window: 4096", "  window: 7006")),
                       at(14) + "system.window: 7006 tokens exceed the whole context (prompt + decode = 7005)"));
  const std::string both = replace_line(kExperimentYaml, "  batch: 8", "  requests: [{prompt: 5000, decode: 10}]");
  EXPECT_TRUE(contains(error_for(both), at(8) + "workload.prompt: given together with workload.requests"));
  EXPECT_TRUE(
      contains(error_for(replace_line(text, "  requests: [{prompt: 5000, decode: 10}, {prompt: 7000, decode: 5}]",
                                      "  requests: [{prompt: 5000, decode: 0}]")),
               at(7) + "workload.requests.0.decode: must be at least 1"));
  EXPECT_TRUE(
      contains(error_for(replace_line(text, "  requests: [{prompt: 5000, decode: 10}, {prompt: 7000, decode: 5}]",
                                      "  requests: []")),
               at(7) + "workload.requests: empty list"));
}

TEST_F(ExperimentFile, WorkloadErrors) {
  EXPECT_TRUE(contains(error_for(replace_line(kExperimentYaml, "  batch: 8", "  batch: 0")),
                       at(7) + "workload.batch: must be at least 1, got 0"));
  EXPECT_TRUE(contains(error_for(replace_line(kExperimentYaml, "  decode: 64", "  decode: 0")),
                       at(9) + "workload.decode: must be at least 1, got 0"));
  EXPECT_TRUE(contains(error_for(replace_line(kExperimentYaml, "  decode: 64", "")),
                       at(6) + "workload.decode: missing required key"));
  EXPECT_TRUE(contains(error_for(replace_line(kExperimentYaml, "  prompt: 32768", "  prompt: 32k")),
                       at(8) + "workload.prompt: not a whole number: '32k'"));
  EXPECT_TRUE(contains(error_for(replace_line(kExperimentYaml, "  prefill_chunk: 4096", "  prefill_chunk: -1")),
                       at(10) + "workload.prefill_chunk: must not be negative"));
}

TEST_F(ExperimentFile, WindowRulesApplyToWindowStrategiesOnly) {
  for (const std::string strategy : {"hgca", "window-only", "fetch-topk"}) {
    std::string text = with_system_line("  strategy: hgca", "  strategy: " + strategy);
    EXPECT_TRUE(contains(error_for(replace_line(text, "  window: 4096", "  window: 0")),
                         at(14) + "system.window: must be at least 1 for strategy " + strategy + ", got 0"));
    EXPECT_TRUE(contains(error_for(replace_line(text, "  window: 4096", "  window: 32833")),
                         at(14) + "system.window: 32833 tokens exceed the whole context (prompt + decode = 32832)"));
    EXPECT_EQ(load_one(replace_line(text, "  window: 4096", "  window: 32832")).system.window, 32832);
    EXPECT_TRUE(contains(error_for(replace_line(text, "  sinks: 4", "  sinks: 4096")),
                         at(15) + "system.sinks: 4096 sink tokens do not fit in a window of 4096"));
  }
  // Strategies without a window accept any window and sinks: one system block serves a sweep over strategies.
  for (const std::string strategy : {"gpu-full", "offload-fetch", "cpu-full"}) {
    std::string text = with_system_line("  strategy: hgca", "  strategy: " + strategy);
    text = replace_line(text, "  window: 4096", "  window: 0");
    EXPECT_EQ(load_one(text).system.strategy, strategy);
  }
  // The default window is named as such when it does not fit.
  const std::string short_prompt =
      replace_line(replace_line(kExperimentYaml, "  window: 4096", ""), "  prompt: 32768", "  prompt: 1000");
  EXPECT_TRUE(contains(error_for(short_prompt), at(12) + "system.window: 4096 (the default) tokens exceed"));
  EXPECT_TRUE(contains(error_for(replace_line(kExperimentYaml, "  sinks: 4", "  sinks: -1")),
                       at(15) + "system.sinks: must be at least 0"));
}

TEST_F(ExperimentFile, SelectionErrors) {
  const std::string line = "  selection: {source: fraction, fraction: 0.05, granularity: query-head}";
  auto with_selection = [&](const std::string& flow) {
    return replace_line(kExperimentYaml, line, "  selection: " + flow);
  };
  EXPECT_TRUE(contains(error_for(with_selection("{fraction: 0}")),
                       at(17) + "system.selection.fraction: must lie in (0, 1], got 0"));
  EXPECT_TRUE(contains(error_for(with_selection("{fraction: 1.5}")),
                       at(17) + "system.selection.fraction: must lie in (0, 1], got 1.5"));
  EXPECT_TRUE(contains(error_for(with_selection("{source: topk, top_k: 0}")),
                       at(17) + "system.selection.top_k: must be at least 1, got 0"));
  EXPECT_TRUE(contains(error_for(with_selection("{source: topk}")),
                       at(17) + "system.selection.top_k: missing required key for source topk"));
  EXPECT_EQ(load_one(with_selection("{source: topk, top_k: 512}")).system.selection.top_k, 512);
  EXPECT_EQ(load_one(with_selection("{source: fraction, top_k: 0}")).system.selection.source,
            SelectionSource::Fraction);
  EXPECT_TRUE(contains(error_for(with_selection("{source: distribution, min_fraction: 0.5, max_fraction: 0.1}")),
                       at(17) + "system.selection.min_fraction: min_fraction 0.5 exceeds max_fraction 0.1"));
  EXPECT_TRUE(contains(error_for(with_selection("{source: topp}")),
                       at(17) + "system.selection.source: unknown value 'topp' (did you mean 'topk'?); expected one of "
                                "fraction, topk, distribution, profile"));
  EXPECT_TRUE(
      contains(error_for(with_selection("{granularity: head}")), "system.selection.granularity: unknown value 'head'"));
  EXPECT_TRUE(contains(error_for(with_selection("{fracton: 0.1}")),
                       at(17) + "system.selection.fracton: unknown key (did you mean 'fraction'?)"));
}

TEST_F(ExperimentFile, SelectionProfilePathIsRelativeToTheFile) {
  const std::string line = "  selection: {source: fraction, fraction: 0.05, granularity: query-head}";
  const std::string text =
      replace_line(kExperimentYaml, line, "  selection: {source: profile, path: ../profiles/p.h5}");
  const std::string expected_path = (dir_.path() / "profiles" / "p.h5").string();
  EXPECT_TRUE(contains(error_for(text), at(17) + "system.selection.path: profile file missing: " + expected_path));
  dir_.write("profiles/p.h5", "not really HDF5; only existence is checked here");
  EXPECT_EQ(load_one(text).system.selection.profile_path, expected_path);
  EXPECT_TRUE(contains(error_for(replace_line(kExperimentYaml, line, "  selection: {source: profile}")),
                       at(17) + "system.selection.path: missing required key for source profile"));
}

TEST_F(ExperimentFile, SystemErrors) {
  EXPECT_TRUE(contains(error_for(with_system_line("  strategy: hgca", "  strategy: hgcaa")),
                       at(13) + "system.strategy: unknown value 'hgcaa' (did you mean 'hgca'?); expected one of "
                                "gpu-full, hgca, offload-fetch, cpu-full, window-only, fetch-topk"));
  EXPECT_TRUE(contains(error_for(with_system_line("  cpu_threads: 0", "  cpu_threads: 17")),
                       at(21) + "system.cpu_threads: 17 threads on a CPU with 16 cores"));
  EXPECT_EQ(load_one(with_system_line("  cpu_threads: 0", "  cpu_threads: 16")).system.cpu_threads, 16);
  EXPECT_TRUE(
      contains(error_for(with_system_line("  cpu_threads: 0", "  cpu_threads: -1")), at(21) + "system.cpu_threads"));
  EXPECT_TRUE(contains(error_for(with_system_line("  window: 4096", "  windw: 4096")),
                       at(14) + "system.windw: unknown key (did you mean 'window'?)"));
  EXPECT_TRUE(contains(error_for(with_system_line("  eviction_batch: 64", "  eviction_batch: 0")),
                       at(16) + "system.eviction_batch: must be at least 1"));
  EXPECT_TRUE(contains(error_for(with_system_line("  summary_block: 16", "  summary_block: 0")),
                       at(19) + "system.summary_block: must be at least 1"));
  EXPECT_TRUE(contains(error_for(with_system_line("  reselect_interval: 8", "  reselect_interval: 0")),
                       at(20) + "system.reselect_interval: must be at least 1"));
  EXPECT_TRUE(contains(error_for(with_system_line("  pinned: true", "  pinned: yes please")),
                       at(25) + "system.pinned: not a boolean"));
  EXPECT_TRUE(contains(error_for(with_system_line("  cpu_schedule: dynamic", "  cpu_schedule: greedy")),
                       at(22) + "system.cpu_schedule: unknown value 'greedy'"));
  EXPECT_TRUE(contains(error_for(with_system_line("  selection_method: key-scan", "  selection_method: keyscan")),
                       at(18) + "system.selection_method: unknown value 'keyscan' (did you mean 'key-scan'?)"));
}

TEST_F(ExperimentFile, TopLevelErrors) {
  EXPECT_TRUE(contains(error_for(replace_line(kExperimentYaml, "seed: 7", "sede: 7")),
                       at(5) + "sede: unknown key (did you mean 'seed'?)"));
  EXPECT_TRUE(
      contains(error_for(replace_line(kExperimentYaml, "seed: 7", "seed: -7")), at(5) + "seed: must not be negative"));
  EXPECT_TRUE(contains(error_for(replace_line(kExperimentYaml, "hardware: test-hw", "")),
                       at(1) + "hardware: missing required key"));
  EXPECT_TRUE(contains(error_for(replace_line(kExperimentYaml, "model: test-model", "")),
                       at(1) + "model: missing required key"));
  EXPECT_TRUE(contains(error_for("- a list\n"), "the document is a list; expected a map"));
  EXPECT_TRUE(
      contains(error_for("hardware: test-hw\nmodel: test-model\nworkload: [1, 2]\n"), at(3) + "workload: got a list"));
}

// A message is one line, even when it quotes a multi-line value.
TEST_F(ExperimentFile, MessagesAreOneLine) {
  const std::string text = replace_line(kExperimentYaml, "  strategy: hgca", "  strategy: \"two\\nlines\"");
  const std::string message = error_for(text);
  EXPECT_TRUE(contains(message, "system.strategy: unknown value"));
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

}  // namespace
}  // namespace hgca
