// Every shipped hardware profile and model file loads, is named after its file, and (for models) states in
// its header comment the parameter count that its shape gives under the documented formula.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>

#include "sim/config/loader.hpp"
#include "sim/model/model_costs.hpp"

namespace hgca {
namespace {

namespace fs = std::filesystem;
const fs::path kConfigs = fs::path(HGCA_SOURCE_DIR) / "configs";

std::vector<fs::path> yaml_files(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

TEST(ShippedConfigs, EveryHardwareProfileLoads) {
  const std::vector<fs::path> files = yaml_files(kConfigs / "hw");
  ASSERT_GE(files.size(), 7u);
  for (const fs::path& f : files) {
    SCOPED_TRACE(f.string());
    HardwareProfile hw;
    ASSERT_NO_THROW(hw = load_hardware(f.string()));
    EXPECT_EQ(hw.name, f.stem().string());
    EXPECT_FALSE(hw.source.empty());
    // Only `hgca calibrate` writes calibrated: true, and it stamps the source.
    if (hw.calibrated) {
      EXPECT_NE(hw.source.find("hgca calibrate"), std::string::npos);
    }
    EXPECT_GT(hw.cpu.cores, 0);
    EXPECT_GE(hw.cpu.cores, hw.cpu.bandwidth_by_threads.back().first);
  }
}

TEST(ShippedConfigs, TheHgcaPaperMachinesHaveTwoSockets) {
  for (const char* name : {"a6000-xeon6430", "a100-pcie-xeon6430", "rtx4090-xeon6430", "h100-xeon8470"}) {
    const HardwareProfile hw = load_hardware((kConfigs / "hw" / (std::string(name) + ".yaml")).string());
    EXPECT_EQ(hw.cpu.sockets, 2) << name;
    EXPECT_EQ(hw.cpu.cores, std::string(name) == "h100-xeon8470" ? 104 : 64) << name;
  }
}

TEST(ShippedConfigs, EveryModelLoadsAndItsStatedParameterCountMatchesItsShape) {
  const std::vector<fs::path> files = yaml_files(kConfigs / "models");
  ASSERT_GE(files.size(), 15u);
  const std::regex stated(R"(Parameters from this shape[^:]*: ([0-9,]+))");
  for (const fs::path& f : files) {
    SCOPED_TRACE(f.string());
    ModelShape m;
    ASSERT_NO_THROW(m = load_model(f.string()));
    EXPECT_EQ(m.name, f.stem().string());
    EXPECT_FALSE(m.source.empty());
    std::ifstream in(f);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::smatch match;
    if (!std::regex_search(text, match, stated)) continue;  // older files state it in their own words
    std::string digits = match[1];
    digits.erase(std::remove(digits.begin(), digits.end(), ','), digits.end());
    const double params = ModelCosts(m).total_weight_bytes() / m.weight_bytes_per_param;
    EXPECT_EQ(static_cast<long long>(std::llround(params)), std::stoll(digits));
  }
}

}  // namespace
}  // namespace hgca
