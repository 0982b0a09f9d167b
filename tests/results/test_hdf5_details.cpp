#include <gtest/gtest.h>

#include <H5Cpp.h>

#include <cmath>
#include <limits>
#include <set>

#include "sim/results/hdf5.hpp"
#include "tests/results/sample_runs.hpp"
#include "tests/results/scratch_dir.hpp"

namespace hgca {
namespace {

std::vector<RunResult> runs_with_details() {
  std::vector<RunResult> runs = {test::simple_feasible_run("hgca", 8, 4096),
                                 test::simple_feasible_run("gpu-full", 8, 4096)};
  runs[0].parameters = {{"hardware.cpu.cores", "", false, 16, ""}, {"system.cpu_task", "", true, 0, "kv-head"}};
  runs[1].parameters = {{"hardware.cpu.cores", "", false, 32, ""}, {"system.cpu_task", "", true, 0, "head"}};
  runs[0].head_selection = {2, 2, {0.01, 0.02, 0.03, 0.4}};
  return runs;
}

TEST(Hdf5Details, ParametersHeadSelectionsAndSuiteAttributesRoundTrip) {
  test::ScratchDir dir("details");
  const std::string path = dir.file("r.h5");
  write_hdf5(path, runs_with_details(),
             ResultsFileInfo{.tool_version = "t", .description = "line one\nfigures: capacity, step_breakdown",
                             .figures = {"capacity", "step_breakdown"}});
  const auto back = read_hdf5(path);
  ASSERT_EQ(back.size(), 2u);
  ASSERT_EQ(back[1].parameters.size(), 2u);
  EXPECT_EQ(back[1].parameters[0].key, "hardware.cpu.cores");
  EXPECT_EQ(back[1].parameters[0].number, 32);
  EXPECT_EQ(back[0].parameters[1].text, "kv-head");
  EXPECT_EQ(back[0].head_selection.layers, 2);
  EXPECT_EQ(back[0].head_selection.fraction, (std::vector<double>{0.01, 0.02, 0.03, 0.4}));
  EXPECT_TRUE(back[1].head_selection.fraction.empty());

  H5::H5File file(path, H5F_ACC_RDONLY);
  std::string description;
  const H5::Attribute d = file.openAttribute("description");
  d.read(d.getStrType(), description);
  EXPECT_EQ(description, "line one\nfigures: capacity, step_breakdown");
  const H5::Attribute f = file.openAttribute("figures");
  EXPECT_EQ(f.getSpace().getSimpleExtentNpoints(), 2);
  const H5::DataSet cores = file.openDataSet("parameters/hardware.cpu.cores");
  std::vector<double> values(2);
  cores.read(values.data(), H5::PredType::NATIVE_DOUBLE);
  EXPECT_EQ(values, (std::vector<double>{16, 32}));
  const H5::DataSet heads = file.openDataSet("runs/0000/head_selection_fraction");
  hsize_t dims[2];
  heads.getSpace().getSimpleExtentDims(dims);
  EXPECT_EQ(dims[0], 2u);
  EXPECT_EQ(dims[1], 2u);
}

TEST(Hdf5Details, FilesWithoutDetailsHaveNoneOfTheExtraObjects) {
  test::ScratchDir dir("details");
  const std::string path = dir.file("r.h5");
  write_hdf5(path, {test::simple_feasible_run("hgca", 1, 1024)}, "t");
  H5::H5File file(path, H5F_ACC_RDONLY);
  EXPECT_FALSE(file.nameExists("parameters"));
  EXPECT_FALSE(file.attrExists("description"));
  EXPECT_FALSE(file.attrExists("figures"));
}

TEST(Hdf5Details, AMismatchedHeadSelectionIsAnErrorAndWritesNothing) {
  test::ScratchDir dir("details");
  const std::string path = dir.file("r.h5");
  auto runs = runs_with_details();
  runs[0].head_selection.fraction.pop_back();
  try {
    write_hdf5(path, runs, "t");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("has 3 values for 2 layers x 2 heads"), std::string::npos) << e.what();
  }
  EXPECT_EQ(dir.entries(), std::set<std::string>{});
}

}  // namespace
}  // namespace hgca
