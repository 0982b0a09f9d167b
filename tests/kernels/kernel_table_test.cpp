// The per-ISA primitives below the launchers, tested on their own where attention outputs would blur a
// defect: the vector exp of each path.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/cpu/kernel_dispatch.hpp"
#include "tests/kernels/test_support.hpp"

namespace hgca::kernels::test {
namespace {

class ExpPerIsa : public ::testing::TestWithParam<Isa> {};

TEST_P(ExpPerIsa, AccurateOnTheSoftmaxRange) {
  const detail::KernelTable* table = detail::kernel_table(GetParam());
  ASSERT_NE(table, nullptr);
  std::vector<float> x;
  for (int i = 0; i <= 200003; ++i) x.push_back(-87.3f * static_cast<float>(i) / 200003.0f);  // odd count: tails
  for (const float v : {-0.0f, -1e-30f, -1e-7f, -0.34657f, -0.34658f, -0.693147f, -1.0f, -87.3f}) x.push_back(v);
  std::vector<float> y(x.size());
  table->exp(x.data(), y.data(), static_cast<std::int64_t>(x.size()));
  double worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double exact = std::exp(static_cast<double>(x[i]));
    const double ulps = std::abs(y[i] - exact) / (exact * std::ldexp(1.0, -23));
    worst = std::max(worst, ulps);
    ASSERT_LE(ulps, kExpUlps) << "x = " << x[i] << " y = " << y[i];
  }
  RecordProperty("worst_ulps", std::to_string(worst));
}

TEST_P(ExpPerIsa, UnderflowAndMinusInfinity) {
  const detail::KernelTable* table = detail::kernel_table(GetParam());
  ASSERT_NE(table, nullptr);
  const std::vector<float> x = {-87.5f, -88.0f, -100.0f, -1e30f, -INFINITY};
  std::vector<float> y(x.size(), NAN);
  table->exp(x.data(), y.data(), static_cast<std::int64_t>(x.size()));
  for (std::size_t i = 0; i < x.size(); ++i) {
    EXPECT_GE(y[i], 0.0f) << x[i];  // also false for NaN
    EXPECT_LT(y[i], std::ldexp(1.0f, -126)) << x[i];
  }
  EXPECT_EQ(y.back(), 0.0f);
}

INSTANTIATE_TEST_SUITE_P(AllPaths, ExpPerIsa, ::testing::ValuesIn(supported_isas()),
                         [](const ::testing::TestParamInfo<Isa>& i) { return std::string(isa_name(i.param)); });

}  // namespace
}  // namespace hgca::kernels::test
