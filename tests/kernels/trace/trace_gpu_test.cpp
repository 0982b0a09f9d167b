// The GPU half on a REAL trace: kernels/cuda's window attention over each checked step's sinks + recent
// window (fp16 on the GPU), the CPU pool part from kernels/cpu, and the GPU log-sum-exp merge, against the
// double reference (issue 4). Skips, saying so, where there is no GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "kernels/cpu/sparse_attention.hpp"
#include "kernels/cuda/merge.hpp"
#include "tests/kernels/cuda/gpu_test_support.hpp"
#include "tests/kernels/trace/trace_case.hpp"
#include "traces/format/trace.hpp"

namespace hgca::kernels::test {
namespace {

constexpr Tolerance kRecorded{1e-3, 1e-3};

std::vector<ref::Result> union_references(const TraceCase& c, bool stored) {
  std::vector<ref::Result> r;
  for (std::size_t s = 0; s < c.positions.size(); ++s)
    for (int h = 0; h < c.q_heads; ++h)
      r.push_back(trace_reference(c, static_cast<int>(s), h, union_positions(c, static_cast<int>(s), h), stored));
  return r;
}

// The GPU window of every checked step: its window positions' stored K/V rows, packed from slot 0.
DecodeCase window_case(const TraceCase& c) {
  DecodeCase w;
  w.type = KvType::f16;
  w.batch = static_cast<int>(c.positions.size());
  w.q_heads = c.q_heads;
  w.kv_heads = c.kv_heads;
  w.head_dim = c.head_dim;
  for (int s = 0; s < w.batch; ++s) {
    const auto n = static_cast<std::int64_t>(c.window.list(static_cast<std::size_t>(s) * c.q_heads).size());
    w.lengths.push_back(n);
    w.capacity = std::max(w.capacity, n);
  }
  w.q = c.q;
  w.k.assign(static_cast<std::size_t>(w.batch) * w.kv_heads * w.capacity * w.head_dim, 0.0f);
  w.v = w.k;
  for (int s = 0; s < w.batch; ++s)
    for (int kvh = 0; kvh < w.kv_heads; ++kvh) {
      // Every query head of a KV group has the same window positions (the split is by position).
      const int q_head = kvh * (c.q_heads / c.kv_heads);
      const auto pos = c.window.list(static_cast<std::size_t>(s) * c.q_heads + q_head);
      for (std::size_t slot = 0; slot < pos.size(); ++slot)
        for (int i = 0; i < w.head_dim; ++i) {
          w.k[w.row(s, kvh, static_cast<std::int64_t>(slot)) + i] = static_cast<float>(c.k_stored[s][kvh](pos[slot], i));
          w.v[w.row(s, kvh, static_cast<std::int64_t>(slot)) + i] = static_cast<float>(c.v_stored[s][kvh](pos[slot], i));
        }
    }
  return w;
}

TEST(ShippedTraceGpu, WindowOnGpuPlusCpuPoolMergedOnGpuMatchesReference) {
  HGCA_REQUIRE_GPU();
  const std::string path = check_trace_path();
  if (path.empty()) GTEST_SKIP() << "no trace in traces/data and HGCA_CHECK_TRACE unset";
  const int layers = traces::open_trace(path)->meta().num_layers;
  double worst = 0;
  for (double fraction : {0.05, 1.0})
    for (int layer = 0; layer < layers; ++layer) {
      TraceSplit split;
      split.cpu_fraction = fraction;
      const TraceCase c = make_trace_case(path, layer, split);
      const DecodeCase w = window_case(c);
      cuda::DecodeConfig cfg;
      cfg.scale = static_cast<float>(c.scale);
      cuda::DecodePlan plan;
      const Status ps = cuda::plan_decode_attention({w.type, w.batch, w.kv_heads, w.head_dim, w.capacity}, w.q_heads,
                                                    cfg, cuda::device_info(0).sm_count, &plan);
      if (!ps.ok()) GTEST_SKIP() << "this trace's shape is outside the GPU kernel's support: " << ps.message;
      const GpuResult gpu = run_gpu_decode(w, cfg);

      const std::size_t rows = c.positions.size() * static_cast<std::size_t>(c.q_heads);
      const auto d = static_cast<std::size_t>(c.head_dim);
      std::vector<float> op(rows * d), lp(rows);
      AttentionOptions opt;
      opt.scale = static_cast<float>(c.scale);
      const Status s = sparse_attention(c.kv, c.q_heads, c.q, c.pool.view(), {op, lp}, opt);
      ASSERT_TRUE(s.ok()) << s.message;

      auto ga = to_device(gpu.out), gl = to_device(gpu.lse), ca = to_device(op), cl = to_device(lp);
      cuda::DeviceBuffer mo(rows * d * sizeof(float)), ml(rows * sizeof(float));
      const Status ms = cuda::merge_attention(ga.as<float>(), gl.as<float>(), ca.as<float>(), cl.as<float>(),
                                              mo.as<float>(), ml.as<float>(), rows, c.head_dim, nullptr);
      ASSERT_TRUE(ms.ok()) << ms.message;
      const auto out = to_host<float>(mo.data(), rows * d), lse = to_host<float>(ml.data(), rows);
      const std::string what = path + " layer " + std::to_string(layer) + " fraction " + std::to_string(fraction);
      expect_rows_match(union_references(c, true), out, lse, c.head_dim, kAttention, what + " (fp16 values)");
      worst = std::max(worst, expect_rows_match(union_references(c, false), out, lse, c.head_dim, kRecorded,
                                                what + " (recorded)"));
    }
  std::printf("[ worst ] GPU window + CPU pool, merged on the GPU, vs recorded-value reference on %s: %.2e\n",
              path.c_str(), worst);
}

}  // namespace
}  // namespace hgca::kernels::test
