#include <gtest/gtest.h>

#include <H5Cpp.h>

#include <regex>
#include <string>
#include <vector>

#include "sim/results/hdf5.hpp"
#include "sim/results/hdf5_support.hpp"
#include "sim/results/scalar_fields.hpp"
#include "tests/results/sample_runs.hpp"
#include "tests/results/scratch_dir.hpp"

namespace hgca {
namespace {

// Every stored member, listed by hand (not through the field table) so a field missing from the table shows.
void expect_same_run(const RunResult& a, const RunResult& b) {
  EXPECT_EQ(a.experiment, b.experiment);
  EXPECT_EQ(a.point_label, b.point_label);
  EXPECT_EQ(a.strategy, b.strategy);
  EXPECT_EQ(a.hardware, b.hardware);
  EXPECT_EQ(a.model, b.model);
  EXPECT_EQ(a.batch, b.batch);
  EXPECT_EQ(a.context, b.context);
  EXPECT_EQ(a.decode, b.decode);
  EXPECT_EQ(a.window, b.window);
  EXPECT_EQ(a.seed, b.seed);
  EXPECT_EQ(a.resolved_yaml, b.resolved_yaml);
  EXPECT_EQ(a.feasible, b.feasible);
  EXPECT_EQ(a.infeasible_reason, b.infeasible_reason);
  EXPECT_EQ(a.prefill_s, b.prefill_s);
  EXPECT_EQ(a.step_latency_s, b.step_latency_s);
  EXPECT_EQ(a.decode_s, b.decode_s);
  EXPECT_EQ(a.tokens_per_s, b.tokens_per_s);
  EXPECT_EQ(a.step_p50_s, b.step_p50_s);
  EXPECT_EQ(a.step_p99_s, b.step_p99_s);
  EXPECT_EQ(a.step_mean_s, b.step_mean_s);
  EXPECT_EQ(a.busy.gpu, b.busy.gpu);
  EXPECT_EQ(a.busy.h2d, b.busy.h2d);
  EXPECT_EQ(a.busy.d2h, b.busy.d2h);
  EXPECT_EQ(a.busy.cpu_core_seconds, b.busy.cpu_core_seconds);
  EXPECT_EQ(a.busy.host, b.busy.host);
  EXPECT_EQ(a.cpu_cores_used, b.cpu_cores_used);
  EXPECT_EQ(a.cpu_imbalance, b.cpu_imbalance);
  for (const auto& [x, y] : {std::pair{&a.gpu_memory, &b.gpu_memory}, std::pair{&a.cpu_memory, &b.cpu_memory}}) {
    EXPECT_EQ(x->weights, y->weights);
    EXPECT_EQ(x->kv, y->kv);
    EXPECT_EQ(x->activations, y->activations);
    EXPECT_EQ(x->staging, y->staging);
    EXPECT_EQ(x->metadata, y->metadata);
  }
  EXPECT_EQ(a.gpu_capacity, b.gpu_capacity);
  EXPECT_EQ(a.cpu_capacity, b.cpu_capacity);
  EXPECT_EQ(a.events, b.events);
  EXPECT_EQ(a.wall_s, b.wall_s);
}

std::string string_attribute(const H5::H5Object& object, const std::string& name) {
  const H5::Attribute attribute = object.openAttribute(name);
  std::string value;
  attribute.read(attribute.getStrType(), value);
  return value;
}

template <typename T>
T number_attribute(const H5::H5Object& object, const std::string& name, const H5::PredType& type) {
  T value{};
  object.openAttribute(name).read(type, &value);
  return value;
}

void replace_attribute_with_string(const std::string& path, const std::string& object, const std::string& name,
                                   const std::string& value) {
  H5::H5File file(path, H5F_ACC_RDWR);
  H5::Group group = file.openGroup(object);
  group.removeAttr(name);
  const H5::StrType type = hdf5::utf8_string_type();
  group.createAttribute(name, type, H5::DataSpace(H5S_SCALAR)).write(type, value);
}

template <typename T>
void replace_attribute_with_number(const std::string& path, const std::string& object, const std::string& name,
                                   const H5::PredType& type, T value) {
  H5::H5File file(path, H5F_ACC_RDWR);
  H5::Group group = file.openGroup(object);
  group.removeAttr(name);
  group.createAttribute(name, type, H5::DataSpace(H5S_SCALAR)).write(type, &value);
}

void expect_read_error(const std::string& path, const std::string& message) {
  try {
    read_hdf5(path);
    ADD_FAILURE() << "read_hdf5 accepted " << path;
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "cannot read " + path + ": " + message);
  }
}

TEST(Hdf5, RoundTripKeepsEveryField) {
  test::ScratchDir dir("h5-roundtrip");
  const std::string path = dir.file("runs.h5");
  RunResult empty_steps = test::simple_feasible_run("gpu-full", 2, 4096);
  empty_steps.step_latency_s.clear();
  const std::vector<RunResult> runs = {test::fully_populated_run(), test::simple_feasible_run("hgca", 8, 65536),
                                       empty_steps,
                                       test::simple_infeasible_run("cpu-full", 1, 1 << 20, "CPU memory")};
  write_hdf5(path, runs, "0.1.0-test");
  const auto back = read_hdf5(path);
  ASSERT_EQ(back.size(), runs.size());
  for (size_t i = 0; i < runs.size(); ++i) {
    SCOPED_TRACE("run " + std::to_string(i));
    expect_same_run(runs[i], back[i]);
    EXPECT_TRUE(back[i].timeline.empty());
  }
  EXPECT_EQ(dir.entries(), std::set<std::string>{"runs.h5"});
}

TEST(Hdf5, NoRunsRoundTrips) {
  test::ScratchDir dir("h5-empty");
  write_hdf5(dir.file("empty.h5"), {}, "v");
  EXPECT_TRUE(read_hdf5(dir.file("empty.h5")).empty());
  H5::H5File file(dir.file("empty.h5"), H5F_ACC_RDONLY);
  EXPECT_EQ(file.openDataSet("summary/tokens_per_s").getSpace().getSimpleExtentNpoints(), 0);
}

TEST(Hdf5, LayoutMatchesTheDocumentedFormat) {
  test::ScratchDir dir("h5-layout");
  const std::string path = dir.file("runs.h5");
  const std::vector<RunResult> runs = {test::simple_feasible_run("hgca", 8, 65536),
                                       test::simple_infeasible_run("gpu-full", 8, 65536, "GPU memory, KV")};
  write_hdf5(path, runs, "1.2.3 (abc)");

  H5::H5File file(path, H5F_ACC_RDONLY);
  EXPECT_EQ(string_attribute(file, "format"), "hgca-results");
  EXPECT_EQ(file.openAttribute("format_version").getTypeClass(), H5T_INTEGER);
  EXPECT_EQ(number_attribute<int64_t>(file, "format_version", H5::PredType::NATIVE_INT64), 1);
  EXPECT_EQ(string_attribute(file, "tool_version"), "1.2.3 (abc)");
  EXPECT_TRUE(std::regex_match(string_attribute(file, "created"),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")))
      << string_attribute(file, "created");

  const H5::Group runs_group = file.openGroup("runs");
  ASSERT_EQ(runs_group.getNumObjs(), 2u);
  EXPECT_EQ(runs_group.getObjnameByIdx(0), "0000");
  EXPECT_EQ(runs_group.getObjnameByIdx(1), "0001");
  const H5::Group run0 = runs_group.openGroup("0000");
  EXPECT_EQ(string_attribute(run0, "strategy"), "hgca");
  EXPECT_EQ(number_attribute<int64_t>(run0, "batch", H5::PredType::NATIVE_INT64), 8);
  EXPECT_EQ(number_attribute<uint8_t>(run0, "feasible", H5::PredType::NATIVE_UINT8), 1);
  EXPECT_EQ(number_attribute<double>(run0, "gpu_share", H5::PredType::NATIVE_DOUBLE), 0.5);  // derived, stored
  EXPECT_EQ(number_attribute<double>(run0, "busy_cpu_core_s", H5::PredType::NATIVE_DOUBLE), 6.0);
  EXPECT_TRUE(run0.attrExists("resolved_yaml"));
  const H5::DataSet steps = run0.openDataSet("step_latency_s");
  EXPECT_EQ(steps.getTypeClass(), H5T_FLOAT);
  EXPECT_EQ(steps.getFloatType().getSize(), 8u);
  std::vector<double> latencies(4);
  ASSERT_EQ(steps.getSpace().getSimpleExtentNpoints(), 4);
  steps.read(latencies.data(), H5::PredType::NATIVE_DOUBLE);
  EXPECT_EQ(latencies, std::vector<double>({0.5, 0.5, 0.5, 0.5}));
  EXPECT_EQ(string_attribute(runs_group.openGroup("0001"), "infeasible_reason"), "GPU memory, KV");

  // /summary: one column per tabular field, in the order the "columns" attribute gives.
  const H5::Group summary = file.openGroup("summary");
  const H5::Attribute columns = summary.openAttribute("columns");
  const auto count = static_cast<size_t>(columns.getSpace().getSimpleExtentNpoints());
  std::vector<char*> names(count);
  columns.read(hdf5::utf8_string_type(), names.data());
  std::vector<std::string> expected;
  for (const auto& f : scalar_fields()) {
    if (f.tabular) expected.push_back(f.name);
  }
  std::vector<std::string> got(names.begin(), names.end());
  H5Dvlen_reclaim(hdf5::utf8_string_type().getId(), columns.getSpace().getId(), H5P_DEFAULT, names.data());
  EXPECT_EQ(got, expected);
  EXPECT_EQ(summary.getNumObjs(), expected.size());
  for (const auto& name : expected) {
    EXPECT_EQ(summary.openDataSet(name).getSpace().getSimpleExtentNpoints(), 2) << name;
  }
  std::vector<double> throughput(2);
  summary.openDataSet("tokens_per_s").read(throughput.data(), H5::PredType::NATIVE_DOUBLE);
  EXPECT_EQ(throughput, std::vector<double>({16.0, 0.0}));
  std::vector<uint8_t> feasible(2);
  summary.openDataSet("feasible").read(feasible.data(), H5::PredType::NATIVE_UINT8);
  EXPECT_EQ(feasible, std::vector<uint8_t>({1, 0}));
  EXPECT_EQ(string_attribute(summary.openDataSet("decode_s"), "unit"), "s");
  EXPECT_EQ(string_attribute(summary.openDataSet("gpu_mem_kv_bytes"), "unit"), "bytes");
  const H5::DataSet strategies = summary.openDataSet("strategy");
  std::vector<char*> strategy_names(2);
  strategies.read(strategy_names.data(), hdf5::utf8_string_type());
  EXPECT_EQ(std::string(strategy_names[0]), "hgca");
  EXPECT_EQ(std::string(strategy_names[1]), "gpu-full");
  H5Dvlen_reclaim(hdf5::utf8_string_type().getId(), strategies.getSpace().getId(), H5P_DEFAULT,
                  strategy_names.data());
}

TEST(Hdf5, RunGroupNamesArePaddedToSortInOrder) {
  EXPECT_EQ(hdf5::run_group_name(0, 0), "0000");
  EXPECT_EQ(hdf5::run_group_name(5, 10), "0005");
  EXPECT_EQ(hdf5::run_group_name(9999, 10000), "9999");
  EXPECT_EQ(hdf5::run_group_name(7, 10001), "00007");
  EXPECT_EQ(hdf5::run_group_name(10000, 10001), "10000");
}

TEST(Hdf5, ReadsIntegersOfOtherWidthsAsOtherToolsWriteThem) {
  test::ScratchDir dir("h5-widths");
  const std::string path = dir.file("runs.h5");
  write_hdf5(path, {test::simple_feasible_run("hgca", 8, 65536)}, "v");
  replace_attribute_with_number<int32_t>(path, "/runs/0000", "batch", H5::PredType::NATIVE_INT32, 9);
  replace_attribute_with_number<int64_t>(path, "/runs/0000", "seed", H5::PredType::NATIVE_INT64, 42);
  const auto runs = read_hdf5(path);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].batch, 9);
  EXPECT_EQ(runs[0].seed, 42u);
}

TEST(Hdf5, ReadErrorsNameTheFileTheEntryAndTheExpectation) {
  test::ScratchDir dir("h5-errors");
  const std::string missing = dir.file("missing.h5");
  expect_read_error(missing, "no such file");

  const std::string text = dir.file("text.h5");
  test::write_text(text, "strategy,batch\nhgca,1\n");
  expect_read_error(text, "not an HDF5 file");

  const std::string foreign = dir.file("foreign.h5");
  H5::H5File(foreign, H5F_ACC_TRUNC).createGroup("data");
  expect_read_error(foreign, "not an hgca results file (root attribute 'format' is missing)");

  const auto fresh = [&](const std::string& name) {
    const std::string path = dir.file(name);
    write_hdf5(path, {test::simple_feasible_run("hgca", 8, 65536), test::simple_feasible_run("hgca", 8, 4096)},
               "v");
    return path;
  };
  std::string path = fresh("other-format.h5");
  replace_attribute_with_string(path, "/", "format", "something-else");
  expect_read_error(path, "not an hgca results file (root attribute 'format' is 'something-else', expected "
                          "'hgca-results')");

  path = fresh("version.h5");
  replace_attribute_with_number<int64_t>(path, "/", "format_version", H5::PredType::NATIVE_INT64, 2);
  expect_read_error(path, "format_version 2 is not supported (this build reads 1)");

  path = fresh("missing-attr.h5");
  H5::H5File(path, H5F_ACC_RDWR).openGroup("/runs/0001").removeAttr("window");
  expect_read_error(path, "/runs/0001 attribute 'window' is missing");

  path = fresh("mistyped.h5");
  replace_attribute_with_string(path, "/runs/0000", "batch", "eight");
  expect_read_error(path, "/runs/0000 attribute 'batch' is a string, expected int64");

  path = fresh("too-big.h5");
  replace_attribute_with_number<int64_t>(path, "/runs/0000", "batch", H5::PredType::NATIVE_INT64, 1ll << 40);
  expect_read_error(path, "/runs/0000 attribute 'batch': value 1099511627776 out of range");

  path = fresh("negative-seed.h5");
  replace_attribute_with_number<int64_t>(path, "/runs/0000", "seed", H5::PredType::NATIVE_INT64, -3);
  expect_read_error(path, "/runs/0000 attribute 'seed' has value -3, out of range for uint64");

  path = fresh("gap.h5");
  {
    H5::H5File file(path, H5F_ACC_RDWR);
    file.openGroup("runs").moveLink("0001", "0005");
  }
  expect_read_error(path, "run 1 is missing from /runs (found /runs/0005 in its place)");

  path = fresh("no-steps.h5");
  H5::H5File(path, H5F_ACC_RDWR).openGroup("/runs/0000").unlink("step_latency_s");
  expect_read_error(path, "dataset /runs/0000/step_latency_s is missing");
}

}  // namespace
}  // namespace hgca
