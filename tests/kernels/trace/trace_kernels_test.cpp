// The CPU kernels on a REAL trace (issue 4: "CPU and GPU kernels against the reference ... on a shipped
// trace, relative error under 1e-3 with fp16 KV"). The HGCA split of every checked (step, head): the GPU-side
// part (sinks + recent window) and the CPU pool part (each head's top positions by its true score) are each
// computed by kernels/cpu from fp16 KV, merged by log-sum-exp, and compared with the double reference:
//   - on the same fp16 values, at the kernels' own tight tolerance (their arithmetic alone);
//   - on the values as recorded, under 1e-3 (what the issue asks: fp16 storage included);
//   - with the CPU side selecting its whole pool, against full attention over every position.
#include <gtest/gtest.h>

#include <cstdio>
#include <vector>

#include "kernels/cpu/attention_state.hpp"
#include "kernels/cpu/sparse_attention.hpp"
#include "tests/kernels/trace/trace_case.hpp"
#include "traces/format/trace.hpp"

namespace hgca::kernels::test {
namespace {

constexpr Tolerance kRecorded{1e-3, 1e-3};  // the bound, against the values as recorded

struct Merged {
  std::vector<float> out, lse;
};

Merged run_cpu_hybrid(const TraceCase& c, Isa isa, TaskGranularity g, ThreadPool* pool) {
  const std::size_t rows = c.positions.size() * static_cast<std::size_t>(c.q_heads);
  const auto d = static_cast<std::size_t>(c.head_dim);
  std::vector<float> ow(rows * d), lw(rows), op(rows * d), lp(rows);
  AttentionOptions opt;
  opt.scale = static_cast<float>(c.scale);
  opt.granularity = g;
  opt.isa = isa;
  Status s = sparse_attention(c.kv, c.q_heads, c.q, c.window.view(), {ow, lw}, opt, pool);
  EXPECT_TRUE(s.ok()) << s.message;
  s = sparse_attention(c.kv, c.q_heads, c.q, c.pool.view(), {op, lp}, opt, pool);
  EXPECT_TRUE(s.ok()) << s.message;
  Merged m{std::vector<float>(rows * d), std::vector<float>(rows)};
  merge_normalized(ow, lw, op, lp, m.out, m.lse, c.head_dim);
  return m;
}

std::vector<ref::Result> references(const TraceCase& c, bool whole_context, bool stored) {
  std::vector<ref::Result> r;
  for (std::size_t s = 0; s < c.positions.size(); ++s)
    for (int h = 0; h < c.q_heads; ++h) {
      const int step = static_cast<int>(s);
      r.push_back(trace_reference(c, step, h, whole_context ? all_positions(c, step) : union_positions(c, step, h),
                                  stored));
    }
  return r;
}

class ShippedTrace : public ::testing::TestWithParam<double> {
 protected:
  void SetUp() override {
    path_ = check_trace_path();
    if (path_.empty()) GTEST_SKIP() << "no trace in traces/data and HGCA_CHECK_TRACE unset";
  }
  std::string path_;
};

TEST_P(ShippedTrace, CpuHybridMatchesReferenceOnEveryLayer) {
  const double fraction = GetParam();
  const int layers = traces::open_trace(path_)->meta().num_layers;
  ThreadPool pool(2);
  double worst_recorded = 0;
  for (int layer = 0; layer < layers; ++layer) {
    TraceSplit split;
    split.cpu_fraction = fraction;
    const TraceCase c = make_trace_case(path_, layer, split);
    ASSERT_GT(c.pool_selected, 0) << "the split must leave work for the CPU side";
    const auto tight = references(c, false, true);
    const auto recorded = references(c, false, false);
    for (Isa isa : supported_isas())
      for (TaskGranularity g : {TaskGranularity::kv_group, TaskGranularity::head}) {
        const std::string what = path_ + " layer " + std::to_string(layer) + " " + isa_name(isa) + " " +
                                 granularity_name(g) + " fraction " + std::to_string(fraction);
        const Merged m = run_cpu_hybrid(c, isa, g, &pool);
        expect_rows_match(tight, m.out, m.lse, c.head_dim, kAttention, what + " (fp16 values)");
        worst_recorded = std::max(
            worst_recorded, expect_rows_match(recorded, m.out, m.lse, c.head_dim, kRecorded, what + " (recorded)"));
        if (fraction >= 1.0)  // everything selected: the hybrid result is full attention
          expect_rows_match(references(c, true, false), m.out, m.lse, c.head_dim, kRecorded, what + " (full)");
      }
  }
  std::printf("[ worst ] CPU hybrid vs recorded-value reference on %s, fraction %.2f: %.2e\n", path_.c_str(),
              fraction, worst_recorded);
}

INSTANTIATE_TEST_SUITE_P(Fractions, ShippedTrace, ::testing::Values(0.05, 1.0));

}  // namespace
}  // namespace hgca::kernels::test
