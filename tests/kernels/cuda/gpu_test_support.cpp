#include "tests/kernels/cuda/gpu_test_support.hpp"

#include "kernels/cpu/half.hpp"

namespace hgca::kernels::test {

namespace {
float round16(KvType t, float x) {
  return t == KvType::bf16 ? bf16_bits_to_float(float_to_bf16_bits(x)) : fp16_bits_to_float(float_to_fp16_bits(x));
}
}  // namespace

void round_to_storage(DecodeCase& c) {
  for (float& x : c.k) x = round16(c.type, x);
  for (float& x : c.v) x = round16(c.type, x);
}

std::vector<std::uint16_t> storage_bits(const DecodeCase& c, const std::vector<float>& values) {
  std::vector<std::uint16_t> bits(values.size());
  for (std::size_t i = 0; i < values.size(); ++i)
    bits[i] = c.type == KvType::bf16 ? float_to_bf16_bits(values[i]) : float_to_fp16_bits(values[i]);
  return bits;
}

DecodeCase random_case(KvType type, int batch, int q_heads, int kv_heads, int head_dim, std::int64_t capacity,
                       std::vector<std::int64_t> lengths, float q_stddev, std::mt19937& rng) {
  DecodeCase c;
  c.type = type;
  c.batch = batch;
  c.q_heads = q_heads;
  c.kv_heads = kv_heads;
  c.head_dim = head_dim;
  c.capacity = capacity;
  c.lengths = std::move(lengths);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  c.q.resize(static_cast<std::size_t>(batch) * q_heads * head_dim);
  for (float& x : c.q) x = q_stddev * normal(rng);
  const std::size_t n = static_cast<std::size_t>(batch) * kv_heads * static_cast<std::size_t>(capacity) * head_dim;
  c.k.resize(n);
  c.v.resize(n);
  std::vector<float> offset(static_cast<std::size_t>(head_dim));
  for (float& o : offset) o = 2.0f * normal(rng);
  for (std::size_t i = 0; i < n; ++i) {
    c.k[i] = normal(rng) + offset[i % static_cast<std::size_t>(head_dim)];
    c.v[i] = normal(rng);
  }
  round_to_storage(c);
  return c;
}

GpuResult run_gpu_decode(const DecodeCase& c, const cuda::DecodeConfig& config) {
  using namespace cuda;
  const WindowShape shape{c.type, c.batch, c.kv_heads, c.head_dim, c.capacity};
  DecodePlan plan;
  const Status ps = plan_decode_attention(shape, c.q_heads, config, device_info(0).sm_count, &plan);
  EXPECT_TRUE(ps.ok()) << ps.message;
  DeviceBuffer k = to_device(storage_bits(c, c.k)), v = to_device(storage_bits(c, c.v));
  std::vector<std::int32_t> len(c.lengths.begin(), c.lengths.end());
  DeviceBuffer lengths = to_device(len), q = to_device(c.q);
  const std::size_t rows = static_cast<std::size_t>(c.batch) * c.q_heads;
  DeviceBuffer out(rows * c.head_dim * sizeof(float)), lse(rows * sizeof(float)), ws(plan.workspace_bytes);
  fill_floats(out.as<float>(), NAN, rows * c.head_dim, nullptr);
  fill_floats(lse.as<float>(), NAN, rows, nullptr);
  if (plan.workspace_bytes) fill_floats(ws.as<float>(), NAN, plan.workspace_bytes / sizeof(float), nullptr);
  Stream stream;
  synchronize_device();
  DecodeArgs a;
  a.kv = {shape, k.data(), v.data(), lengths.as<std::int32_t>()};
  a.q_heads = c.q_heads;
  a.q = q.as<float>();
  a.out = out.as<float>();
  a.lse = lse.as<float>();
  a.workspace = ws.data();
  const Status st = decode_attention(a, plan, stream.get());
  EXPECT_TRUE(st.ok()) << st.message;
  stream.synchronize();
  return {to_host<float>(out.data(), rows * c.head_dim), to_host<float>(lse.data(), rows)};
}

std::vector<ref::Result> reference_decode(const DecodeCase& c, double scale) {
  std::vector<ref::Result> rows;
  const int group = c.q_heads / c.kv_heads;
  for (int s = 0; s < c.batch; ++s)
    for (int h = 0; h < c.q_heads; ++h) {
      const int kvh = h / group;
      const std::int64_t n = c.lengths[static_cast<std::size_t>(s)];
      ref::RowMatrix k(n, c.head_dim), v(n, c.head_dim);
      for (std::int64_t t = 0; t < n; ++t)
        for (int i = 0; i < c.head_dim; ++i) {
          k(t, i) = c.k[c.row(s, kvh, t) + static_cast<std::size_t>(i)];
          v(t, i) = c.v[c.row(s, kvh, t) + static_cast<std::size_t>(i)];
        }
      Eigen::VectorXd q(c.head_dim);
      for (int i = 0; i < c.head_dim; ++i)
        q[i] = c.q[(static_cast<std::size_t>(s) * c.q_heads + h) * c.head_dim + static_cast<std::size_t>(i)];
      rows.push_back(ref::attend_full(q, k, v, scale));
    }
  return rows;
}

}  // namespace hgca::kernels::test
