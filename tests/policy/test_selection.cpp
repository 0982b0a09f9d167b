#include <gtest/gtest.h>

#include <H5Cpp.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "sim/policy/selection.hpp"
#include "tests/support/fixtures.hpp"

namespace hgca {
namespace {

TEST(Selection, FractionAndTopK) {
  const ModelShape m = test::tiny_model(2);
  SelectionSpec s;
  s.source = SelectionSource::Fraction;
  s.fraction = 0.1;
  SelectionModel f(s, m, 1);
  EXPECT_EQ(f.entries(1, 3, 1000), 100);
  EXPECT_EQ(f.entries(1, 3, 1001), 101);  // rounded up
  EXPECT_EQ(f.entries(0, 0, 0), 0);
  s.source = SelectionSource::TopK;
  s.top_k = 64;
  SelectionModel k(s, m, 1);
  EXPECT_EQ(k.entries(0, 0, 1000), 64);
  EXPECT_EQ(k.entries(0, 0, 10), 10);
}

TEST(Selection, DistributionIsSeededClampedAndHeterogeneous) {
  const ModelShape m = test::tiny_model(32);
  SelectionSpec s;
  s.source = SelectionSource::Distribution;
  s.median_fraction = 0.01;
  s.sigma = 1.5;
  s.min_fraction = 0.001;
  s.max_fraction = 0.4;
  SelectionModel a(s, m, 7), b(s, m, 7), c(s, m, 8);
  EXPECT_EQ(a.fractions(), b.fractions());
  EXPECT_NE(a.fractions(), c.fractions());
  double lo = 1, hi = 0;
  std::vector<double> sorted = a.fractions();
  std::sort(sorted.begin(), sorted.end());
  for (double f : sorted) {
    lo = std::min(lo, f);
    hi = std::max(hi, f);
    EXPECT_GE(f, 0.001);
    EXPECT_LE(f, 0.4);
  }
  EXPECT_GT(hi / lo, 20.0);  // heads differ a lot
  EXPECT_NEAR(sorted[sorted.size() / 2], 0.01, 0.004);  // median near the asked one
}

TEST(Selection, GroupSharedSelectionTakesTheLargestHead) {
  const ModelShape m = test::tiny_model(1);  // 8 query heads, 2 KV heads
  SelectionSpec s;
  s.source = SelectionSource::Distribution;
  SelectionModel sel(s, m, 3);
  double mx = 0;
  for (int h = 4; h < 8; ++h) mx = std::max(mx, sel.entries(0, h, 10000));
  EXPECT_EQ(sel.group_entries(0, 1, 10000), mx);
}

TEST(Selection, ProfileFromATracedModelMapsOntoALargerOne) {
  const std::string path = (std::filesystem::temp_directory_path() / "hgca_test_profile.h5").string();
  {
    H5::H5File f(path, H5F_ACC_TRUNC);
    const double data[2][2] = {{0.1, 0.2}, {0.3, 0.4}};  // 2 layers x 2 heads
    hsize_t dims[2] = {2, 2};
    H5::DataSet ds = f.createDataSet("fraction", H5::PredType::NATIVE_DOUBLE, H5::DataSpace(2, dims));
    ds.write(data, H5::PredType::NATIVE_DOUBLE);
  }
  ModelShape m = test::tiny_model(4);  // 4 layers x 8 heads
  const std::vector<double> f = read_selection_profile(path, m);
  ASSERT_EQ(f.size(), 32u);
  EXPECT_EQ(f[0 * 8 + 0], 0.1);  // layer 0 -> source layer 0, head 0..3 -> source head 0
  EXPECT_EQ(f[1 * 8 + 5], 0.2);  // layer 1 -> 0, head 5 -> 1
  EXPECT_EQ(f[2 * 8 + 2], 0.3);  // layer 2 -> 1
  EXPECT_EQ(f[3 * 8 + 7], 0.4);
  SelectionSpec s;
  s.source = SelectionSource::Profile;
  s.profile_path = path;
  SelectionModel sel(s, m, 1);
  EXPECT_EQ(sel.entries(3, 7, 1000), 400);
  std::filesystem::remove(path);
}

TEST(Selection, ProfileErrorsNameTheFile) {
  const std::string path = (std::filesystem::temp_directory_path() / "hgca_bad_profile.h5").string();
  {
    H5::H5File f(path, H5F_ACC_TRUNC);
    const double data[2] = {0.1, NAN};
    hsize_t dims[2] = {1, 2};
    H5::DataSet ds = f.createDataSet("fraction", H5::PredType::NATIVE_DOUBLE, H5::DataSpace(2, dims));
    ds.write(data, H5::PredType::NATIVE_DOUBLE);
  }
  try {
    read_selection_profile(path, test::tiny_model(1));
    FAIL() << "NaN accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("NaN"), std::string::npos);
  }
  EXPECT_THROW(read_selection_profile("/nonexistent/profile.h5", test::tiny_model(1)), std::runtime_error);
  std::filesystem::remove(path);
}


TEST(Selection, ProfileGroupFractionDrivesSharedSelections) {
  // Version-2 profiles (hgca replay) also give the share a KV group's selections cover together (their union),
  // which can exceed every single head's share; a shared (kv-head) selection reads that many entries.
  const std::string path = (std::filesystem::temp_directory_path() / "hgca_test_profile_groups.h5").string();
  {
    H5::H5File f(path, H5F_ACC_TRUNC);
    const double fraction[1][4] = {{0.1, 0.2, 0.05, 0.05}};  // 1 layer x 4 heads (2 KV groups of 2)
    const double group[1][2] = {{0.25, 0.04}};               // group 1's union below its largest head: ignored
    hsize_t fd[2] = {1, 4}, gd[2] = {1, 2};
    f.createDataSet("fraction", H5::PredType::NATIVE_DOUBLE, H5::DataSpace(2, fd)).write(fraction, H5::PredType::NATIVE_DOUBLE);
    f.createDataSet("group_fraction", H5::PredType::NATIVE_DOUBLE, H5::DataSpace(2, gd)).write(group, H5::PredType::NATIVE_DOUBLE);
  }
  const ModelShape m = test::tiny_model(2);  // 2 layers x 8 query heads, 2 KV heads
  const SelectionProfile p = read_selection_profile_file(path, m);
  ASSERT_EQ(p.group_fraction.size(), 4u);
  EXPECT_EQ(p.group_fraction[1 * 2 + 0], 0.25);  // layer 1 -> source layer 0, KV head 0 -> 0
  EXPECT_EQ(p.group_fraction[1 * 2 + 1], 0.04);
  SelectionSpec s;
  s.source = SelectionSource::Profile;
  s.profile_path = path;
  SelectionModel sel(s, m, 1);
  EXPECT_EQ(sel.entries(0, 3, 1000), 200);        // head 3 of 8 -> source head 1
  EXPECT_EQ(sel.group_entries(0, 0, 1000), 250);  // the union, larger than any head (200)
  EXPECT_EQ(sel.group_entries(0, 1, 1000), 50);   // never below the largest head
  std::filesystem::remove(path);
}

TEST(Selection, ProfileWithoutGroupFractionKeepsTheLargestHead) {
  const std::string path = (std::filesystem::temp_directory_path() / "hgca_test_profile_v1.h5").string();
  {
    H5::H5File f(path, H5F_ACC_TRUNC);
    const double fraction[1][2] = {{0.1, 0.3}};
    hsize_t fd[2] = {1, 2};
    f.createDataSet("fraction", H5::PredType::NATIVE_DOUBLE, H5::DataSpace(2, fd)).write(fraction, H5::PredType::NATIVE_DOUBLE);
  }
  const ModelShape m = test::tiny_model(1);
  EXPECT_TRUE(read_selection_profile_file(path, m).group_fraction.empty());
  SelectionSpec s;
  s.source = SelectionSource::Profile;
  s.profile_path = path;
  SelectionModel sel(s, m, 1);
  EXPECT_EQ(sel.group_entries(0, 1, 1000), 300);  // heads 4..7 -> source head 1
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace hgca
