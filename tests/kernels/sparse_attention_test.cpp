// CPU decode attention (sparse lists and dense ranges), every ISA path this CPU supports, against the double
// reference; the hybrid identity; determinism across thread counts; argument checks.
#include <gtest/gtest.h>

#include <cstring>
#include <numeric>
#include <random>
#include <tuple>

#include "kernels/cpu/attention_state.hpp"
#include "kernels/cpu/sparse_attention.hpp"
#include "tests/kernels/test_support.hpp"

namespace hgca::kernels::test {
namespace {

struct Heads {
  int q, kv;
  const char* name;
};
// Group sizes 4, 8, 3 and 1: the SIMD kernels take query heads in blocks of 4, so these cover one full
// block, two full blocks, a partial block, and the single-head path.
constexpr Heads kGqa{8, 2, "gqa4to1"};
constexpr Heads kMqa{8, 1, "mqa8"};
constexpr Heads kGqa3{6, 2, "gqa3to1"};
constexpr Heads kMha{3, 3, "mha"};

// Sequence lengths cover several chunks with a partial last one, an empty sequence, and a short one.
const std::vector<std::int64_t> kTokens = {150, 0, 67};

// Per (sequence, query head) lists: odd sizes, empty, single, chunk-boundary sizes, everything. The first
// KV group of sequence 0 shares one list (the kernels' shared-list path); the first group of the last
// sequence has lists of one size but different contents (must not be mistaken for shared); the other
// groups differ in size and overlap (the union path).
Lists make_lists(const std::vector<std::int64_t>& tokens, Heads heads, std::mt19937& rng) {
  const std::int64_t sizes[] = {37, 0, 1, 65, 1 << 30, 64, 129, 5, 100};
  const int group = heads.q / heads.kv;
  Lists lists;
  int n = 0;
  for (std::size_t s = 0; s < tokens.size(); ++s) {
    for (int kvh = 0; kvh < heads.kv; ++kvh) {
      const auto shared = random_subset(tokens[s], 50, rng);
      for (int g = 0; g < group; ++g) {
        if (s == 0 && kvh == 0 && group > 1) lists.add(shared);
        else if (s + 1 == tokens.size() && kvh == 0) lists.add(random_subset(tokens[s], 30, rng));
        else lists.add(random_subset(tokens[s], sizes[n++ % std::size(sizes)], rng));
      }
    }
  }
  return lists;
}

struct Outputs {
  std::vector<float> out, lse;
  Outputs(std::size_t rows, int d) : out(rows * static_cast<std::size_t>(d), NAN), lse(rows, NAN) {}
  AttentionOutput view() { return {out, lse}; }
};

using Params = std::tuple<Isa, KvType, int, Heads>;

class SparseVsReference : public ::testing::TestWithParam<Params> {};

TEST_P(SparseVsReference, EveryRowMatches) {
  const auto [isa, type, d, heads] = GetParam();
  std::mt19937 rng(static_cast<std::uint32_t>(1000 * d + 10 * static_cast<int>(type) + heads.q));
  const Layer layer = make_layer(type, heads.kv, d, kTokens, rng);
  const std::size_t rows = kTokens.size() * static_cast<std::size_t>(heads.q);
  const auto q = random_queries(static_cast<int>(rows), d, 2.0f, rng);
  const Lists lists = make_lists(kTokens, heads, rng);
  const auto expected = reference_rows(layer, heads.q, q, lists, ref::default_scale(d));
  for (const TaskGranularity g : {TaskGranularity::kv_group, TaskGranularity::head}) {
    Outputs o(rows, d);
    AttentionOptions opts;
    opts.isa = isa;
    opts.granularity = g;
    const Status s = sparse_attention(layer.kv, heads.q, q, lists.view(), o.view(), opts);
    ASSERT_TRUE(s.ok()) << s.message;
    expect_rows_match(expected, o.out, o.lse, d, kAttention, granularity_name(g));
  }
}

std::string params_name(const ::testing::TestParamInfo<Params>& info) {
  const auto [isa, type, d, heads] = info.param;
  return std::string(isa_name(isa)) + "_" + kv_type_name(type) + "_d" + std::to_string(d) + "_" + heads.name;
}

INSTANTIATE_TEST_SUITE_P(AllPaths, SparseVsReference,
                         ::testing::Combine(::testing::ValuesIn(supported_isas()),
                                            ::testing::Values(KvType::f32, KvType::f16, KvType::bf16),
                                            ::testing::Values(64, 128, 96, 40, 17),
                                            ::testing::Values(kGqa, kMqa, kGqa3, kMha)),
                         params_name);

// KV-group tasks read four ways (sparse_attention.cpp): head by head when the lists barely overlap; the
// union in first-seen order when the lists are short next to the context; by an ascending sweep when they
// are long; always the union in list order when not adaptive. All, on one long sequence, against the reference.
TEST(SparseAttention, GroupUnionBothWaysMatchesReference) {
  std::mt19937 rng(77);
  const std::vector<std::int64_t> tokens = {4096};
  const Layer layer = make_layer(KvType::f16, 2, 64, tokens, rng);
  const auto q = random_queries(8, 64, 2.0f, rng);
  // 80 of 4096 listed, random (little overlap: head by head); 80 drawn from 40 tokens (overlapping, short:
  // first-seen union); 3600 random (long: swept union, overlapping).
  for (const std::int64_t per_head : {std::int64_t{20}, std::int64_t{-10}, std::int64_t{900}}) {
    Lists lists;
    for (int h = 0; h < 8; ++h) {
      if (per_head > 0) {
        lists.add(random_subset(4096, per_head + h, rng));
      } else {
        auto l = random_subset(40, 10 + h, rng);
        for (auto& t : l) t = 100 * t;  // spread over the context, overlapping between heads
        lists.add(l);
      }
    }
    const auto expected = reference_rows(layer, 8, q, lists, ref::default_scale(64));
    for (const bool adaptive : {true, false}) {
      Outputs o(8, 64);
      AttentionOptions opts;
      opts.granularity = TaskGranularity::kv_group;
      opts.adaptive_group_tasks = adaptive;
      const Status st = sparse_attention(layer.kv, 8, q, lists.view(), o.view(), opts);
      ASSERT_TRUE(st.ok()) << st.message;
      expect_rows_match(expected, o.out, o.lse, 64, kAttention,
                        "per head " + std::to_string(per_head) + (adaptive ? " adaptive" : " union"));
    }
  }
}

class PerIsa : public ::testing::TestWithParam<Isa> {};

TEST_P(PerIsa, DenseRangesMatchReference) {
  const Isa isa = GetParam();
  std::mt19937 rng(11);
  const int d = 96;
  for (const KvType type : {KvType::f32, KvType::f16, KvType::bf16}) {
    const Layer layer = make_layer(type, kGqa.kv, d, kTokens, rng);
    const std::size_t rows = kTokens.size() * static_cast<std::size_t>(kGqa.q);
    const auto q = random_queries(static_cast<int>(rows), d, 2.0f, rng);
    const std::vector<TokenRange> ranges = {{0, 150}, {0, 0}, {10, 61}};
    Lists lists;  // the same positions as explicit lists, for the reference
    for (std::size_t s = 0; s < ranges.size(); ++s) {
      std::vector<std::int32_t> l(static_cast<std::size_t>(ranges[s].end - ranges[s].begin));
      std::iota(l.begin(), l.end(), static_cast<std::int32_t>(ranges[s].begin));
      for (int h = 0; h < kGqa.q; ++h) lists.add(l);
    }
    const auto expected = reference_rows(layer, kGqa.q, q, lists, ref::default_scale(d));
    for (const TaskGranularity g : {TaskGranularity::head, TaskGranularity::kv_group, TaskGranularity::sequence}) {
      Outputs o(rows, d);
      AttentionOptions opts;
      opts.isa = isa;
      opts.granularity = g;
      ASSERT_TRUE(dense_attention(layer.kv, kGqa.q, q, ranges, o.view(), opts).ok());
      expect_rows_match(expected, o.out, o.lse, d, kAttention, std::string(kv_type_name(type)) + " " + granularity_name(g));
    }
  }
}

TEST_P(PerIsa, SequenceGranularityAndExplicitScale) {
  const Isa isa = GetParam();
  std::mt19937 rng(12);
  const int d = 64;
  const Layer layer = make_layer(KvType::bf16, kGqa.kv, d, kTokens, rng);
  const std::size_t rows = kTokens.size() * static_cast<std::size_t>(kGqa.q);
  const auto q = random_queries(static_cast<int>(rows), d, 1.0f, rng);
  const Lists lists = make_lists(kTokens, kGqa, rng);
  const auto expected = reference_rows(layer, kGqa.q, q, lists, 0.3);
  Outputs o(rows, d);
  AttentionOptions opts;
  opts.isa = isa;
  opts.granularity = TaskGranularity::sequence;
  opts.scale = 0.3f;
  ASSERT_TRUE(sparse_attention(layer.kv, kGqa.q, q, lists.view(), o.view(), opts).ok());
  expect_rows_match(expected, o.out, o.lse, d, kAttention, "sequence");
}

// HGCA's identity: attention over the GPU part (sinks + recent window) merged by LSE with attention over
// every remaining position on the CPU equals full attention.
TEST_P(PerIsa, HybridWindowPlusRestEqualsFull) {
  const Isa isa = GetParam();
  std::mt19937 rng(13);
  const int d = 128;
  const std::vector<std::int64_t> tokens = {300, 70, 9};
  const std::int64_t window = 64, sinks = 4;
  for (const KvType type : {KvType::f16, KvType::bf16}) {
    const Layer layer = make_layer(type, kGqa.kv, d, tokens, rng);
    const std::size_t rows = tokens.size() * static_cast<std::size_t>(kGqa.q);
    const auto q = random_queries(static_cast<int>(rows), d, 2.0f, rng);
    Lists gpu, cpu, full;
    for (const std::int64_t n : tokens) {
      const auto win = ref::window_indices(n, window, sinks);
      std::vector<std::int32_t> in_window(win.begin(), win.end()), rest, all(static_cast<std::size_t>(n));
      std::iota(all.begin(), all.end(), 0);
      for (std::int32_t t = 0; t < n; ++t)
        if (!std::binary_search(win.begin(), win.end(), std::int64_t{t})) rest.push_back(t);
      for (int h = 0; h < kGqa.q; ++h) {
        gpu.add(in_window);
        cpu.add(rest);  // empty for the 9-token sequence: the merge must pass the window part through
        full.add(all);
      }
    }
    AttentionOptions opts;
    opts.isa = isa;
    Outputs a(rows, d), b(rows, d), merged(rows, d);
    ASSERT_TRUE(sparse_attention(layer.kv, kGqa.q, q, gpu.view(), a.view(), opts).ok());
    ASSERT_TRUE(sparse_attention(layer.kv, kGqa.q, q, cpu.view(), b.view(), opts).ok());
    merge_normalized(a.out, a.lse, b.out, b.lse, merged.out, merged.lse, d);
    expect_rows_match(reference_rows(layer, kGqa.q, q, full, ref::default_scale(d)), merged.out, merged.lse, d,
                      kAttention, kv_type_name(type));
  }
}

INSTANTIATE_TEST_SUITE_P(AllPaths, PerIsa, ::testing::ValuesIn(supported_isas()),
                         [](const ::testing::TestParamInfo<Isa>& i) { return std::string(isa_name(i.param)); });

TEST(SparseAttention, BitIdenticalForAnyThreadCountAndPartition) {
  std::mt19937 rng(21);
  const int d = 128;
  const std::vector<std::int64_t> tokens = {200, 90, 150, 31, 0};
  const Layer layer = make_layer(KvType::f16, kGqa.kv, d, tokens, rng);
  const std::size_t rows = tokens.size() * static_cast<std::size_t>(kGqa.q);
  const auto q = random_queries(static_cast<int>(rows), d, 2.0f, rng);
  const Lists lists = make_lists(tokens, kGqa, rng);
  std::vector<std::unique_ptr<ThreadPool>> pools;
  for (const int n : {1, 2, 4}) pools.push_back(std::make_unique<ThreadPool>(n));
  for (const TaskGranularity g : {TaskGranularity::head, TaskGranularity::kv_group, TaskGranularity::sequence}) {
    AttentionOptions opts;
    opts.granularity = g;
    Outputs serial(rows, d);
    ASSERT_TRUE(sparse_attention(layer.kv, kGqa.q, q, lists.view(), serial.view(), opts, nullptr).ok());
    for (const auto& pool : pools) {
      for (const Partition p : {Partition::static_round_robin, Partition::dynamic}) {
        opts.partition = p;
        Outputs o(rows, d);
        ASSERT_TRUE(sparse_attention(layer.kv, kGqa.q, q, lists.view(), o.view(), opts, pool.get()).ok());
        EXPECT_EQ(0, std::memcmp(o.out.data(), serial.out.data(), o.out.size() * sizeof(float)))
            << granularity_name(g) << " threads " << pool->size() << " " << partition_name(p);
        EXPECT_EQ(0, std::memcmp(o.lse.data(), serial.lse.data(), o.lse.size() * sizeof(float)));
      }
    }
  }
}

TEST(SparseAttention, RejectsBadArguments) {
  KvStore kv(KvType::f16, 2, 16, {10, 5});
  std::vector<float> q(2 * 4 * 16, 0.1f), out(q.size()), lse(8);
  Lists ok;
  for (int r = 0; r < 8; ++r) ok.add(std::vector<std::int32_t>{0, 1});
  EXPECT_TRUE(sparse_attention(kv, 4, q, ok.view(), {out, lse}).ok());

  auto expect_invalid = [&](const Lists& l, std::span<const float> qq, AttentionOutput o, int q_heads) {
    const Status s = sparse_attention(kv, q_heads, qq, l.view(), o);
    EXPECT_EQ(s.code, StatusCode::invalid_argument) << s.message;
  };
  Lists out_of_range = ok;
  out_of_range.indices[15] = 5;  // sequence 1 has 5 tokens
  expect_invalid(out_of_range, q, {out, lse}, 4);
  Lists negative = ok;
  negative.indices[0] = -1;
  expect_invalid(negative, q, {out, lse}, 4);
  Lists repeated = ok;
  repeated.indices[3] = repeated.indices[2];
  expect_invalid(repeated, q, {out, lse}, 4);
  Lists short_offsets = ok;
  short_offsets.offsets.pop_back();
  expect_invalid(short_offsets, q, {out, lse}, 4);
  Lists decreasing = ok;
  decreasing.offsets[2] = 1;
  expect_invalid(decreasing, q, {out, lse}, 4);
  expect_invalid(ok, std::span<const float>(q).first(10), {out, lse}, 4);
  expect_invalid(ok, q, {std::span<float>(out).first(8), lse}, 4);
  expect_invalid(ok, q, {out, std::span<float>(lse).first(3)}, 4);
  expect_invalid(ok, q, {out, lse}, 3);  // not a multiple of kv_heads
  AttentionOptions bad_scale;
  bad_scale.scale = NAN;
  EXPECT_EQ(sparse_attention(kv, 4, q, ok.view(), {out, lse}, bad_scale).code, StatusCode::invalid_argument);
  const std::vector<TokenRange> bad_range = {{0, 11}, {0, 5}};
  EXPECT_EQ(dense_attention(kv, 4, q, bad_range, {out, lse}).code, StatusCode::invalid_argument);
}

}  // namespace
}  // namespace hgca::kernels::test
