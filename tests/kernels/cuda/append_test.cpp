// The window's append/evict path: slot arithmetic by hand, then a window driven token by token on the GPU
// with rows that encode their position, checking what stays, what leaves (pinned copy), where it is filed
// in the CPU pool, and that attention over the window after appends equals the reference.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "kernels/cpu/half.hpp"
#include "kernels/cuda/kv_window.hpp"
#include "tests/kernels/cuda/gpu_test_support.hpp"
#include "tests/kernels/test_support.hpp"

namespace hgca::kernels::test {
namespace {

using cuda::evicted_position;
using cuda::window_slot;

TEST(CudaWindowSlots, HandComputed) {
  // capacity 8, sinks 2: ring of 6 slots [2, 8).
  EXPECT_EQ(window_slot(0, 2, 8), 0);
  EXPECT_EQ(window_slot(7, 2, 8), 7);
  EXPECT_EQ(window_slot(8, 2, 8), 2);  // replaces token 2
  EXPECT_EQ(evicted_position(8, 2, 8), 2);
  EXPECT_EQ(window_slot(13, 2, 8), 7);
  EXPECT_EQ(evicted_position(13, 2, 8), 7);
  EXPECT_EQ(window_slot(14, 2, 8), 2);  // replaces token 8
  EXPECT_EQ(evicted_position(14, 2, 8), 8);
  EXPECT_EQ(evicted_position(7, 2, 8), -1);
  EXPECT_EQ(window_slot(9, 0, 4), 1);
  EXPECT_EQ(evicted_position(9, 0, 4), 5);
}

TEST(CudaWindowSlots, LauncherChecksArguments) {
  cuda::AppendArgs a;
  EXPECT_EQ(cuda::append_tokens({KvType::f16, 1, 1, 64, 8}, a, nullptr).code, StatusCode::invalid_argument);
  a.sinks = 8;
  EXPECT_EQ(cuda::append_tokens({KvType::f16, 1, 1, 64, 8}, a, nullptr).code, StatusCode::invalid_argument);
  EXPECT_EQ(cuda::append_tokens({KvType::f32, 1, 1, 64, 8}, a, nullptr).code, StatusCode::unsupported);
}

// Element i of the K row of (seq, head, position) is 6 * position + 2 * head + seq + (i % 4) / 4 (heads < 3,
// sequences < 2): below 256 with two fraction bits, so exact in fp16 and unique per row; V is the negative.
float code(int seq, int head, std::int64_t pos, int i) {
  return static_cast<float>(6 * pos + 2 * head + seq) + static_cast<float>(i % 4) / 4.0f;
}

TEST(CudaKvWindow, AppendEvictsToPinnedMemoryAndThePool) {
  HGCA_REQUIRE_GPU();
  const int batch = 2, heads = 3, d = 64;
  const std::int64_t cap = 8, sinks = 2, steps = 21;
  cuda::KvWindow w({KvType::f16, batch, heads, d, cap}, sinks);
  // Sequence 1 starts with 5 tokens loaded in bulk; sequence 0 starts empty.
  {
    std::vector<std::uint16_t> kb(heads * 5 * d), vb(heads * 5 * d);
    for (int h = 0; h < heads; ++h)
      for (int t = 0; t < 5; ++t)
        for (int i = 0; i < d; ++i) {
          kb[(h * 5 + t) * d + i] = float_to_fp16_bits(code(1, h, t, i));
          vb[(h * 5 + t) * d + i] = float_to_fp16_bits(-code(1, h, t, i));
        }
    w.load(1, 5, kb, vb);
  }
  KvStore pool(KvType::f16, heads, d, {steps, steps});
  cuda::Stream stream;
  cuda::DeviceBuffer nk(batch * heads * d * 2), nv(batch * heads * d * 2);
  std::set<std::int64_t> left[2];
  for (int step = 0; step < steps; ++step) {
    std::vector<std::uint16_t> kb(batch * heads * d), vb(batch * heads * d);
    for (int s = 0; s < batch; ++s)
      for (int h = 0; h < heads; ++h)
        for (int i = 0; i < d; ++i) {
          kb[(s * heads + h) * d + i] = float_to_fp16_bits(code(s, h, w.tokens(s), i));
          vb[(s * heads + h) * d + i] = float_to_fp16_bits(-code(s, h, w.tokens(s), i));
        }
    cuda::copy_to_device(nk.data(), kb.data(), kb.size() * 2, stream.get());
    cuda::copy_to_device(nv.data(), vb.data(), vb.size() * 2, stream.get());
    std::vector<std::int64_t> expect_left(batch);
    for (int s = 0; s < batch; ++s) expect_left[s] = evicted_position(w.tokens(s), sinks, cap);
    const auto ev = w.append(nk.data(), nv.data(), stream.get());
    stream.synchronize();
    ASSERT_EQ(ev, expect_left) << "step " << step;
    for (int s = 0; s < batch; ++s) {
      if (ev[s] < 0) continue;
      left[s].insert(ev[s]);
      for (int h = 0; h < heads; ++h)
        for (int i = 0; i < d; ++i) {
          ASSERT_EQ(fp16_bits_to_float(w.evicted_row(s, h, 0)[i]), code(s, h, ev[s], i));
          ASSERT_EQ(fp16_bits_to_float(w.evicted_row(s, h, 1)[i]), -code(s, h, ev[s], i));
        }
    }
    // The pool keeps evicted token e at row e (the caller chooses the mapping).
    ASSERT_TRUE(w.store_evicted(ev, ev, pool).ok());
  }
  // Window contents: sinks plus the last cap - sinks tokens of each sequence, in their slots.
  const auto wk = to_host<std::uint16_t>(w.keys(), batch * heads * cap * d);
  const auto len = to_host<std::int32_t>(w.view().lengths, batch);
  for (int s = 0; s < batch; ++s) {
    EXPECT_EQ(len[s], cap);
    const std::int64_t n = w.tokens(s);
    std::set<std::int64_t> resident;
    for (std::int64_t p = 0; p < n; ++p)
      if (p < sinks || p >= n - (cap - sinks)) resident.insert(p);
    for (const std::int64_t p : resident) {
      const std::int64_t slot = window_slot(p, sinks, cap);
      for (int h = 0; h < heads; ++h)
        ASSERT_EQ(fp16_bits_to_float(wk[((s * heads + h) * cap + slot) * d + 3]), code(s, h, p, 3))
            << "seq " << s << " position " << p;
    }
    // Everything else left exactly once, and was filed in the pool.
    for (std::int64_t p = 0; p < n; ++p) EXPECT_EQ(left[s].count(p), resident.count(p) ? 0u : 1u) << p;
    for (const std::int64_t p : left[s])
      for (int h = 0; h < heads; ++h) {
        EXPECT_EQ(pool.key(s, h, p, 5), code(s, h, p, 5));
        EXPECT_EQ(pool.value(s, h, p, 5), -code(s, h, p, 5));
      }
  }
  // Wrong pool geometry is refused.
  KvStore other(KvType::f16, heads + 1, d, {steps, steps});
  EXPECT_FALSE(w.store_evicted(std::vector<std::int64_t>{0, 0}, std::vector<std::int64_t>{0, 0}, other).ok());
}

// Attention over a window after it has wrapped equals the reference over the tokens it holds.
TEST(CudaKvWindow, AttentionAfterAppendsMatchesReference) {
  HGCA_REQUIRE_GPU();
  std::mt19937 rng(31);
  const int batch = 2, kv_heads = 2, q_heads = 8, d = 128;
  const std::int64_t cap = 100, sinks = 4, steps = 260;
  // All tokens of the sequence, then the window's final contents as a DecodeCase (slot order).
  DecodeCase all = random_case(KvType::bf16, batch, q_heads, kv_heads, d, steps, {steps, steps}, 1.0f, rng);
  cuda::KvWindow w({KvType::bf16, batch, kv_heads, d, cap}, sinks);
  cuda::Stream stream;
  cuda::DeviceBuffer nk(batch * kv_heads * d * 2), nv(batch * kv_heads * d * 2);
  for (std::int64_t p = 0; p < steps; ++p) {
    std::vector<float> k(batch * kv_heads * d), v(batch * kv_heads * d);
    for (int s = 0; s < batch; ++s)
      for (int h = 0; h < kv_heads; ++h)
        for (int i = 0; i < d; ++i) {
          k[(s * kv_heads + h) * d + i] = all.k[all.row(s, h, p) + i];
          v[(s * kv_heads + h) * d + i] = all.v[all.row(s, h, p) + i];
        }
    const auto kb = storage_bits(all, k), vb = storage_bits(all, v);
    cuda::copy_to_device(nk.data(), kb.data(), kb.size() * 2, stream.get());
    cuda::copy_to_device(nv.data(), vb.data(), vb.size() * 2, stream.get());
    w.append(nk.data(), nv.data(), stream.get());
    stream.synchronize();
  }
  DecodeCase win = all;
  win.capacity = cap;
  win.lengths = {cap, cap};
  win.k.assign(batch * kv_heads * cap * d, 0.0f);
  win.v.assign(batch * kv_heads * cap * d, 0.0f);
  for (int s = 0; s < batch; ++s)
    for (int h = 0; h < kv_heads; ++h)
      for (std::int64_t p = 0; p < steps; ++p) {
        if (p >= sinks && p < steps - (cap - sinks)) continue;
        const std::int64_t slot = window_slot(p, sinks, cap);
        for (int i = 0; i < d; ++i) {
          win.k[win.row(s, h, slot) + i] = all.k[all.row(s, h, p) + i];
          win.v[win.row(s, h, slot) + i] = all.v[all.row(s, h, p) + i];
        }
      }
  // The GPU reads the window the appends built, not win's arrays: compare against the reference of win.
  cuda::DecodePlan plan;
  ASSERT_TRUE(cuda::plan_decode_attention(w.shape(), q_heads, {}, cuda::device_info(0).sm_count, &plan).ok());
  auto q = to_device(all.q);
  cuda::DeviceBuffer out(batch * q_heads * d * 4), lse(batch * q_heads * 4), ws(plan.workspace_bytes);
  cuda::DecodeArgs a;
  a.kv = w.view();
  a.q_heads = q_heads;
  a.q = q.as<float>();
  a.out = out.as<float>();
  a.lse = lse.as<float>();
  a.workspace = ws.data();
  ASSERT_TRUE(cuda::decode_attention(a, plan, stream.get()).ok());
  stream.synchronize();
  expect_rows_match(reference_decode(win, ref::default_scale(d)), to_host<float>(out.data(), batch * q_heads * d),
                    to_host<float>(lse.data(), batch * q_heads), d, kAttention, "window after appends");
}

}  // namespace
}  // namespace hgca::kernels::test
