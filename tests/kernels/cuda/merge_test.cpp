// GPU LSE merge against the reference merge and against kernels/cpu's merge_normalized, with empty parts on
// either side, both sides empty, and the output aliasing an input.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kernels/cpu/attention_state.hpp"
#include "kernels/cuda/merge.hpp"
#include "tests/kernels/cuda/gpu_test_support.hpp"
#include "tests/kernels/test_support.hpp"

namespace hgca::kernels::test {
namespace {

TEST(CudaMerge, ChecksArguments) {
  float x = 0;
  EXPECT_EQ(cuda::merge_attention(&x, &x, &x, &x, &x, &x, 1, 0, nullptr).code, StatusCode::invalid_argument);
  EXPECT_EQ(cuda::merge_attention(nullptr, &x, &x, &x, &x, &x, 1, 64, nullptr).code, StatusCode::invalid_argument);
  EXPECT_TRUE(cuda::merge_attention(nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, 0, 64, nullptr).ok());
}

TEST(CudaMerge, MatchesReferenceAndCpuMerge) {
  HGCA_REQUIRE_GPU();
  std::mt19937 rng(21);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (const int d : {64, 128, 40}) {
    const std::size_t rows = 203;
    std::vector<float> oa(rows * d), ob(rows * d), la(rows), lb(rows);
    for (float& x : oa) x = normal(rng);
    for (float& x : ob) x = normal(rng);
    for (std::size_t r = 0; r < rows; ++r) {
      la[r] = 5.0f * normal(rng);
      lb[r] = 5.0f * normal(rng);
      if (r % 7 == 3) la[r] = -INFINITY;  // empty GPU part
      if (r % 11 == 5) lb[r] = -INFINITY;  // empty CPU part
      if (r == 38) la[r] = lb[r] = -INFINITY;  // both empty (38 % 7 == 3 and 38 % 11 == 5 already)
    }
    for (std::size_t r = 0; r < rows; ++r)
      if (std::isinf(la[r])) std::fill_n(oa.begin() + static_cast<long>(r * d), d, 0.0f);
    for (std::size_t r = 0; r < rows; ++r)
      if (std::isinf(lb[r])) std::fill_n(ob.begin() + static_cast<long>(r * d), d, 0.0f);

    std::vector<ref::Result> expected;
    for (std::size_t r = 0; r < rows; ++r) {
      ref::Result a{Eigen::VectorXd(d), la[r]}, b{Eigen::VectorXd(d), lb[r]};
      for (int i = 0; i < d; ++i) {
        a.out[i] = oa[r * d + i];
        b.out[i] = ob[r * d + i];
      }
      expected.push_back(ref::merge(a, b));
    }
    std::vector<float> cpu_out(rows * d), cpu_lse(rows);
    merge_normalized(oa, la, ob, lb, cpu_out, cpu_lse, d);

    auto da = to_device(oa), db = to_device(ob), dla = to_device(la), dlb = to_device(lb);
    cuda::DeviceBuffer out(rows * d * 4), lse(rows * 4);
    cuda::fill_floats(out.as<float>(), NAN, rows * d, nullptr);
    cuda::fill_floats(lse.as<float>(), NAN, rows, nullptr);
    ASSERT_TRUE(cuda::merge_attention(da.as<float>(), dla.as<float>(), db.as<float>(), dlb.as<float>(), out.as<float>(),
                                      lse.as<float>(), rows, d, nullptr)
                    .ok());
    const auto go = to_host<float>(out.data(), rows * d), gl = to_host<float>(lse.data(), rows);
    expect_rows_match(expected, go, gl, d, kMerge, "gpu merge d=" + std::to_string(d));
    for (std::size_t i = 0; i < go.size(); ++i) ASSERT_NEAR(go[i], cpu_out[i], 1e-5) << "vs cpu merge, element " << i;

    // In place: the result overwrites the first part.
    ASSERT_TRUE(cuda::merge_attention(da.as<float>(), dla.as<float>(), db.as<float>(), dlb.as<float>(), da.as<float>(),
                                      dla.as<float>(), rows, d, nullptr)
                    .ok());
    expect_rows_match(expected, to_host<float>(da.data(), rows * d), to_host<float>(dla.data(), rows), d, kMerge,
                      "in-place gpu merge d=" + std::to_string(d));
  }
}

}  // namespace
}  // namespace hgca::kernels::test
