// The hybrid step against the double reference built independently from the data generator: when the CPU
// side selects every pool row the merged result is full attention over the whole context; with partial
// (random or top-k) selection it is attention over window + selected rows. Configuration checks run
// without a GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "kernels/cpu/half.hpp"
#include "kernels/cuda/runtime.hpp"
#include "kernels/hybrid/hybrid_data.hpp"
#include "kernels/hybrid/hybrid_step.hpp"
#include "kernels/ref/reference_attention.hpp"

namespace hgca::kernels::hybrid {
namespace {

#define HGCA_REQUIRE_GPU()                                                  \
  do {                                                                      \
    std::string why_;                                                       \
    if (::hgca::kernels::cuda::device_count(&why_) == 0)                    \
      GTEST_SKIP() << "no CUDA device (" << why_ << ")";                    \
  } while (0)

HybridConfig small() {
  HybridConfig c;
  c.batch = 3;
  c.q_heads = 8;
  c.kv_heads = 2;
  c.head_dim = 128;
  c.context = 1500;
  c.window = 256;
  c.sinks = 4;
  c.threads = 2;
  c.seed = 7;
  return c;
}

double stored(KvType t, float x) {
  return t == KvType::bf16 ? bf16_bits_to_float(float_to_bf16_bits(x)) : fp16_bits_to_float(float_to_fp16_bits(x));
}

// Reference over the given positions, from the generator (not from anything the runner stored).
ref::Result reference(const HybridConfig& c, int s, int h, const std::vector<std::int64_t>& positions) {
  const int kvh = h / (c.q_heads / c.kv_heads);
  ref::RowMatrix k(static_cast<Eigen::Index>(positions.size()), c.head_dim), v(k.rows(), c.head_dim);
  for (std::size_t j = 0; j < positions.size(); ++j)
    for (int i = 0; i < c.head_dim; ++i) {
      k(static_cast<Eigen::Index>(j), i) = stored(c.type, kv_value(c.seed, 0, s, kvh, positions[j], i));
      v(static_cast<Eigen::Index>(j), i) = stored(c.type, kv_value(c.seed, 1, s, kvh, positions[j], i));
    }
  Eigen::VectorXd q(c.head_dim);
  for (int i = 0; i < c.head_dim; ++i) q[i] = query_value(c.seed, s, h, i);
  return ref::attend_full(q, k, v, ref::default_scale(c.head_dim));
}

void expect_matches(const HybridConfig& c, HybridStep& step, bool everything) {
  std::vector<float> out, lse;
  step.output(out, lse);
  const auto d = static_cast<std::size_t>(c.head_dim);
  double worst = 0;
  for (int s = 0; s < c.batch; ++s)
    for (int h = 0; h < c.q_heads; ++h) {
      std::vector<std::int64_t> pos;
      if (everything) {
        for (std::int64_t p = 0; p < c.context; ++p) pos.push_back(p);
      } else {
        for (std::int64_t p = 0; p < c.sinks; ++p) pos.push_back(p);
        for (std::int64_t p = c.context - (c.window - c.sinks); p < c.context; ++p) pos.push_back(p);
        for (const std::int32_t r : step.selected(s, h)) pos.push_back(c.sinks + r);  // pool row r = position sinks + r
      }
      const ref::Result want = reference(c, s, h, pos);
      const std::size_t r = static_cast<std::size_t>(s) * c.q_heads + h;
      double err = 0;
      for (std::size_t i = 0; i < d; ++i) {
        ASSERT_TRUE(std::isfinite(out[r * d + i]));
        err = std::max(err, std::abs(out[r * d + i] - want.out[static_cast<Eigen::Index>(i)]));
      }
      err /= want.out.cwiseAbs().maxCoeff();
      worst = std::max(worst, err);
      EXPECT_LT(err, 2e-5) << "seq " << s << " head " << h;
      EXPECT_NEAR(lse[r], want.lse, 2e-5) << "seq " << s << " head " << h;
    }
  std::printf("[ worst ] max relative output error %.3g\n", worst);
}

TEST(HybridConfig, RejectsBadOptions) {
  HybridConfig c = small();
  EXPECT_TRUE(validate(c).ok());
  c.q_heads = 7;
  EXPECT_NE(validate(c).message.find("--q-heads"), std::string::npos);
  c = small();
  c.sinks = c.window;
  EXPECT_NE(validate(c).message.find("--sinks"), std::string::npos);
  c = small();
  c.cpu_fraction = 1.5;
  EXPECT_NE(validate(c).message.find("--cpu-fraction"), std::string::npos);
  c = small();
  c.head_dim = 96;
  EXPECT_NE(validate(c).message.find("head_dim"), std::string::npos);
  c = small();
  c.type = KvType::f32;
  EXPECT_FALSE(validate(c).ok());
  c = small();
  c.pool_copies = 0;
  EXPECT_NE(validate(c).message.find("pool_copies"), std::string::npos);
}

TEST(HybridConfig, LayerPoolCopiesFillTheRingUpToOnePerLayer) {
  HybridConfig c = small();
  EXPECT_DOUBLE_EQ(pool_bytes(c), 1244.0 * 3 /*sequences*/ * 2 /*kv heads*/ * 128 * 2 /*bytes*/ * 2 /*K and V*/);
  const double mib = 1024.0 * 1024;
  EXPECT_EQ(layer_pool_copies(32, 16 * mib), 32);           // 512 MiB in all: one per layer
  EXPECT_EQ(layer_pool_copies(32, 1024 * mib), 8);          // 8 GiB ring
  EXPECT_EQ(layer_pool_copies(32, 3000 * mib), 2);          // floor(8192 / 3000)
  EXPECT_EQ(layer_pool_copies(32, 20000 * mib), 1);         // larger than the ring: one
  EXPECT_EQ(layer_pool_copies(1, 16 * mib), 1);             // an attention step alone
  EXPECT_EQ(layer_pool_copies(32, 0), 1);                   // no pool
  EXPECT_EQ(layer_pool_copies(32, 16 * mib, 64 * mib), 4);  // a smaller ring
}

TEST(HybridConfig, SelectionCounts) {
  HybridConfig c = small();
  EXPECT_EQ(c.pool_rows(), 1500 - 256);
  c.cpu_fraction = 0.1;
  EXPECT_EQ(c.selected_per_head(), 124);  // round(124.4)
  c.cpu_select = 5000;
  EXPECT_EQ(c.selected_per_head(), c.pool_rows());
  c.context = 100;
  EXPECT_EQ(c.pool_rows(), 0);
  EXPECT_EQ(c.window_rows(), 100);
}

TEST(HybridStep, WithoutAGpuRefusesClearly) {
  std::string why;
  if (cuda::device_count(&why) > 0) GTEST_SKIP() << "a CUDA device is present";
  try {
    HybridStep step(small());
    FAIL() << "constructed without a GPU";
  } catch (const cuda::CudaError& e) {
    EXPECT_NE(std::string(e.what()).find("no CUDA device"), std::string::npos) << e.what();
  }
}

TEST(HybridStep, SelectingEverythingIsFullAttention) {
  HGCA_REQUIRE_GPU();
  for (const KvType t : {KvType::f16, KvType::bf16})
    for (const auto g : {TaskGranularity::kv_group, TaskGranularity::head}) {
      HybridConfig c = small();
      c.type = t;
      c.granularity = g;
      c.cpu_fraction = 1.0;
      HybridStep step(c);
      const PhaseTimes pt = step.run();
      EXPECT_GT(pt.total_ms, 0.0);
      expect_matches(c, step, true);
      EXPECT_LT(step.check(0).max_rel_error, 2e-5);  // the runner's own check agrees
    }
}

TEST(HybridStep, PartialSelectionMatchesWindowPlusSelectedRows) {
  HGCA_REQUIRE_GPU();
  for (const Selection sel : {Selection::random, Selection::topk}) {
    HybridConfig c = small();
    c.selection = sel;
    c.cpu_fraction = 0.05;
    HybridStep step(c);
    step.run();
    step.run();  // a second step draws new lists; the check below uses the last ones
    for (int h = 0; h < c.q_heads; ++h) {
      const auto s = step.selected(1, h);
      EXPECT_EQ(static_cast<std::int64_t>(s.size()), c.selected_per_head());
      EXPECT_EQ(std::set<std::int32_t>(s.begin(), s.end()).size(), s.size());
    }
    expect_matches(c, step, false);
  }
}

// Successive steps read successive copies of the pool: each must hold the rows copy 0 was filled with, with
// the pool read into the cache first or not, and with top-k selection scoring the copy it attends.
TEST(HybridStep, EveryPoolCopyGivesTheReferenceResult) {
  HGCA_REQUIRE_GPU();
  for (const Selection sel : {Selection::random, Selection::topk})
    for (const bool warm : {true, false}) {
      HybridConfig c = small();
      c.selection = sel;
      c.cpu_fraction = 0.2;
      c.pool_copies = 3;
      c.warm_pool = warm;
      HybridStep step(c);
      EXPECT_EQ(step.last_pool_copy(), 0);
      for (int i = 0; i < 4; ++i) {
        step.run();
        EXPECT_EQ(step.last_pool_copy(), i % 3);  // copies 0, 1, 2, 0
        expect_matches(c, step, false);
      }
      step.read_pool();  // a second read changes nothing the steps see
      step.run();
      EXPECT_EQ(step.last_pool_copy(), 1);
      expect_matches(c, step, false);
    }
}

// The probe option moves the CPU phase's queries and result through pageable buffers: the same result.
TEST(HybridStep, PageableCpuBuffersGiveTheReferenceResult) {
  HGCA_REQUIRE_GPU();
  for (const Selection sel : {Selection::random, Selection::topk}) {
    HybridConfig c = small();
    c.selection = sel;
    c.cpu_fraction = 0.2;
    c.pageable_cpu_io = true;
    HybridStep step(c);
    for (int i = 0; i < 2; ++i) {
      step.run();
      expect_matches(c, step, false);
    }
  }
}

TEST(HybridStep, ContextInsideTheWindowHasAnEmptyCpuSide) {
  HGCA_REQUIRE_GPU();
  HybridConfig c = small();
  c.context = 200;  // < window: everything on the GPU, the CPU part is empty (lse = -inf)
  HybridStep step(c);
  step.run();
  expect_matches(c, step, true);
}

}  // namespace
}  // namespace hgca::kernels::hybrid
