// hgca_cuda_bench: speed of the GPU kernels, one JSON object per line (not a test).
//
//   hgca_cuda_bench [--quick] [--tune] [--reps=N] [--dtype=fp16,bf16] [--shapes=BxL,...]
//                   [--q-heads=32 --kv-heads=8 --head-dim=128] [--splits=N --warps=N --unroll=N]
//
// Lines: "info" (device), "hbm" (the measured ceilings: device-to-device copy counting read + write, and a
// read-only kernel with the attention kernel's loads), "decode_attention" per shape and configuration (GB/s
// counts the K and V bytes of the window read once, and the fraction of the measured read ceiling),
// "merge" and "append" (latency-bound small kernels). Every time is the median of --reps event-timed runs
// after warm-up; inputs rotate over enough copies to exceed the L2 cache. --tune sweeps splits, warps and
// unroll on four shapes.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "kernels/cuda/bench/bench_device.hpp"
#include "kernels/cuda/decode_attention.hpp"
#include "kernels/cuda/kv_window.hpp"
#include "kernels/cuda/merge.hpp"
#include "kernels/cuda/runtime.hpp"

namespace hgca::kernels::cuda {
namespace {

struct Options {
  bool quick = false, tune = false;
  int reps = 50;
  std::vector<KvType> dtypes{KvType::f16, KvType::bf16};
  std::vector<std::pair<int, std::int64_t>> shapes;
  int q_heads = 32, kv_heads = 8, head_dim = 128;
  DecodeConfig config;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

void require(const Status& st) {
  if (!st.ok()) throw CudaError(st.message);
}

// One window of `batch` sequences x `window` rows, in `copies` rotating replicas.
struct Setup {
  WindowShape shape;
  int copies = 1;
  DeviceBuffer k, v, lengths, q, out, lse, workspace;
};

Setup make_setup(KvType type, int batch, std::int64_t window, const Options& o, std::size_t l2_bytes) {
  Setup s;
  s.shape = {type, batch, o.kv_heads, o.head_dim, window};
  const std::size_t bytes = s.shape.array_bytes();
  s.copies = static_cast<int>(std::clamp<std::size_t>((8 * l2_bytes) / (2 * bytes) + 1, 1, 32));
  s.k = DeviceBuffer(bytes * s.copies);
  s.v = DeviceBuffer(bytes * s.copies);
  fill_random_16bit(s.k.data(), bytes * s.copies / 2, type == KvType::bf16, 2.0f, 1);
  fill_random_16bit(s.v.data(), bytes * s.copies / 2, type == KvType::bf16, 1.0f, 2);
  std::vector<std::int32_t> len(static_cast<std::size_t>(batch), static_cast<std::int32_t>(window));
  s.lengths = DeviceBuffer(len.size() * 4);
  Stream st;
  copy_to_device(s.lengths.data(), len.data(), len.size() * 4, st.get());
  const std::size_t rows = static_cast<std::size_t>(batch) * o.q_heads;
  std::vector<float> q(rows * o.head_dim);
  for (std::size_t i = 0; i < q.size(); ++i) q[i] = static_cast<float>((i * 2654435761u) % 1000) / 500.0f - 1.0f;
  s.q = DeviceBuffer(q.size() * 4);
  copy_to_device(s.q.data(), q.data(), q.size() * 4, st.get());
  s.out = DeviceBuffer(rows * o.head_dim * 4);
  s.lse = DeviceBuffer(rows * 4);
  st.synchronize();
  return s;
}

void bench_decode(Setup& s, const Options& o, DecodeConfig cfg, int sms, double read_gbs, double copy_gbs) {
  DecodePlan plan;
  const Status ps = plan_decode_attention(s.shape, o.q_heads, cfg, sms, &plan);
  if (!ps.ok()) {
    std::printf("{\"bench\": \"decode_attention\", \"error\": \"%s\"}\n", ps.message.c_str());
    return;
  }
  if (s.workspace.bytes() < plan.workspace_bytes) s.workspace = DeviceBuffer(plan.workspace_bytes);
  Stream stream;
  Event e0, e1;
  const std::size_t bytes = s.shape.array_bytes();
  auto run = [&](int copy) {
    DecodeArgs a;
    a.kv = {s.shape, static_cast<char*>(s.k.data()) + copy * bytes, static_cast<char*>(s.v.data()) + copy * bytes,
            s.lengths.as<std::int32_t>()};
    a.q_heads = o.q_heads;
    a.q = s.q.as<float>();
    a.out = s.out.as<float>();
    a.lse = s.lse.as<float>();
    a.workspace = s.workspace.data();
    require(decode_attention(a, plan, stream.get()));
  };
  for (int w = 0; w < 3; ++w) run(w % s.copies);
  std::vector<double> t;
  for (int r = 0; r < o.reps; ++r) {
    e0.record(stream.get());
    run(r % s.copies);
    e1.record(stream.get());
    e1.synchronize();
    t.push_back(e1.since(e0) * 1e3);
  }
  const double us = median(t);
  const double kv_bytes = 2.0 * static_cast<double>(bytes);
  const double gbs = kv_bytes / (us * 1e-6) / 1e9;
  std::printf(
      "{\"bench\": \"decode_attention\", \"dtype\": \"%s\", \"batch\": %d, \"window\": %lld, \"q_heads\": %d, "
      "\"kv_heads\": %d, \"head_dim\": %d, \"splits\": %d, \"rows_per_split\": %lld, \"warps\": %d, \"unroll\": %d, "
      "\"ctas\": %d, \"ctas_per_sm\": %d, \"time_us\": %.2f, \"kv_bytes\": %.0f, \"gbs\": %.1f, \"of_read_ceiling\": %.3f, "
      "\"of_copy_ceiling\": %.3f, \"l2_copies\": %d}\n",
      kv_type_name(s.shape.type), s.shape.batch, static_cast<long long>(s.shape.capacity), o.q_heads, o.kv_heads,
      o.head_dim, plan.splits, static_cast<long long>(plan.rows_per_split), plan.warps, plan.unroll,
      plan.splits * s.shape.batch * o.kv_heads, plan.ctas_per_sm, us, kv_bytes, gbs, gbs / read_gbs, gbs / copy_gbs, s.copies);
  std::fflush(stdout);
}

void bench_merge(const Options& o, std::size_t rows) {
  const std::size_t n = rows * o.head_dim;
  DeviceBuffer a(n * 4), b(n * 4), la(rows * 4), lb(rows * 4);
  fill_floats(a.as<float>(), 0.5f, n, nullptr);
  fill_floats(b.as<float>(), 0.25f, n, nullptr);
  fill_floats(la.as<float>(), 1.0f, rows, nullptr);
  fill_floats(lb.as<float>(), 2.0f, rows, nullptr);
  Stream stream;
  Event e0, e1;
  std::vector<double> t;
  for (int r = 0; r < o.reps + 3; ++r) {
    e0.record(stream.get());
    require(merge_attention(a.as<float>(), la.as<float>(), b.as<float>(), lb.as<float>(), a.as<float>(),
                            la.as<float>(), rows, o.head_dim, stream.get()));
    e1.record(stream.get());
    e1.synchronize();
    if (r >= 3) t.push_back(e1.since(e0) * 1e3);
  }
  std::printf("{\"bench\": \"merge\", \"rows\": %zu, \"head_dim\": %d, \"time_us\": %.2f}\n", rows, o.head_dim,
              median(t));
}

void bench_append(const Options& o, int batch, std::int64_t window) {
  KvWindow w({KvType::f16, batch, o.kv_heads, o.head_dim, window}, 4);
  const std::size_t row_elems = static_cast<std::size_t>(batch) * o.kv_heads * o.head_dim;
  DeviceBuffer nk(row_elems * 2), nv(row_elems * 2);
  fill_random_16bit(nk.data(), row_elems, false, 1.0f, 3);
  fill_random_16bit(nv.data(), row_elems, false, 1.0f, 4);
  Stream stream;
  Event e0, e1;
  std::vector<double> t;
  // Fill past the capacity first so that every timed append evicts.
  for (std::int64_t i = 0; i < window + 3; ++i) {
    w.append(nk.data(), nv.data(), stream.get());
    if (i % 256 == 0) stream.synchronize();
  }
  stream.synchronize();
  for (int r = 0; r < o.reps; ++r) {
    e0.record(stream.get());
    w.append(nk.data(), nv.data(), stream.get());
    e1.record(stream.get());
    e1.synchronize();
    t.push_back(e1.since(e0) * 1e3);
  }
  std::printf(
      "{\"bench\": \"append\", \"batch\": %d, \"kv_heads\": %d, \"head_dim\": %d, \"window\": %lld, "
      "\"evicted_bytes\": %zu, \"time_us\": %.2f, \"what\": \"positions H2D + append/evict kernel + evicted rows D2H "
      "(pinned)\"}\n",
      batch, o.kv_heads, o.head_dim, static_cast<long long>(window), row_elems * 4, median(t));
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::size_t p = 0;
  while (p <= s.size()) {
    const std::size_t q = s.find(',', p);
    out.push_back(s.substr(p, q == std::string::npos ? std::string::npos : q - p));
    if (q == std::string::npos) break;
    p = q + 1;
  }
  return out;
}

int run(int argc, char** argv) {
  Options o;
  std::string shapes;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto val = [&](const char* key) { return a.substr(std::strlen(key)); };
    if (a == "--quick") o.quick = true;
    else if (a == "--tune") o.tune = true;
    else if (a.rfind("--reps=", 0) == 0) o.reps = std::max(1, std::stoi(val("--reps=")));
    else if (a.rfind("--shapes=", 0) == 0) shapes = val("--shapes=");
    else if (a.rfind("--q-heads=", 0) == 0) o.q_heads = std::stoi(val("--q-heads="));
    else if (a.rfind("--kv-heads=", 0) == 0) o.kv_heads = std::stoi(val("--kv-heads="));
    else if (a.rfind("--head-dim=", 0) == 0) o.head_dim = std::stoi(val("--head-dim="));
    else if (a.rfind("--splits=", 0) == 0) o.config.splits = std::stoi(val("--splits="));
    else if (a.rfind("--warps=", 0) == 0) o.config.warps = std::stoi(val("--warps="));
    else if (a.rfind("--unroll=", 0) == 0) o.config.unroll = std::stoi(val("--unroll="));
    else if (a.rfind("--dtype=", 0) == 0) {
      o.dtypes.clear();
      for (const auto& d : split_list(val("--dtype="))) {
        if (d == "fp16") o.dtypes.push_back(KvType::f16);
        else if (d == "bf16") o.dtypes.push_back(KvType::bf16);
        else {
          std::fprintf(stderr, "hgca_cuda_bench: --dtype: unknown type '%s' (fp16, bf16)\n", d.c_str());
          return 2;
        }
      }
    } else {
      std::fprintf(stderr,
                   "usage: %s [--quick] [--tune] [--reps=N] [--dtype=fp16,bf16] [--shapes=BxL,...] [--q-heads=N] "
                   "[--kv-heads=N] [--head-dim=N] [--splits=N] [--warps=N] [--unroll=N]\n",
                   argv[0]);
      return 2;
    }
  }
  if (shapes.empty())
    shapes = o.quick ? "1x1024,16x4096,64x4096"
                     : "1x1024,1x32768,8x4096,8x32768,16x4096,32x4096,32x32768,64x1024,64x4096,64x16384,64x32768,"
                       "128x4096";
  for (const auto& s : split_list(shapes)) {
    const std::size_t x = s.find('x');
    if (x == std::string::npos) {
      std::fprintf(stderr, "hgca_cuda_bench: --shapes: '%s' is not BATCHxWINDOW\n", s.c_str());
      return 2;
    }
    o.shapes.emplace_back(std::stoi(s.substr(0, x)), std::stoll(s.substr(x + 1)));
  }

  std::string why;
  if (device_count(&why) == 0) {
    std::fprintf(stderr, "hgca_cuda_bench: no CUDA device (%s)\n", why.c_str());
    return 1;
  }
  const DeviceInfo info = device_info(0);
  std::printf("{\"bench\": \"info\", \"device\": \"%s\", \"sms\": %d, \"l2_bytes\": %zu, \"memory_bytes\": %zu, "
              "\"driver\": %d, \"runtime\": %d}\n",
              info.name.c_str(), info.sm_count, info.l2_bytes, info.global_memory, info.driver_version,
              info.runtime_version);
  const Bandwidth bw = measure_hbm(o.quick ? (std::size_t{1} << 30) : (std::size_t{4} << 30), o.quick ? 5 : 20);
  std::printf("{\"bench\": \"hbm\", \"buffer_bytes\": %zu, \"copy_gbs_read_plus_write\": %.1f, \"read_gbs\": %.1f}\n",
              bw.bytes, bw.copy_gbs, bw.read_gbs);
  std::fflush(stdout);

  for (const KvType t : o.dtypes)
    for (const auto& [batch, window] : o.shapes) {
      Setup s = make_setup(t, batch, window, o, info.l2_bytes);
      bench_decode(s, o, o.config, info.sm_count, bw.read_gbs, bw.copy_gbs);
    }
  if (o.tune) {
    const std::vector<std::pair<int, std::int64_t>> tune_shapes{{16, 4096}, {64, 4096}, {8, 32768}, {32, 32768}};
    for (const auto& [batch, window] : tune_shapes) {
      Setup s = make_setup(KvType::f16, batch, window, o, info.l2_bytes);
      for (const int unroll : {4, 8})
        for (const int warps : {2, 4, 8})
          for (const int splits : {0, 1, 2, 4, 8, 16, 32, 64}) {
            DecodeConfig c = o.config;
            c.splits = splits;
            c.warps = warps;
            c.unroll = unroll;
            bench_decode(s, o, c, info.sm_count, bw.read_gbs, bw.copy_gbs);
          }
    }
  }
  for (const std::size_t rows : {std::size_t{512}, std::size_t{4096}}) bench_merge(o, rows);
  bench_append(o, 16, 4096);
  return 0;
}

}  // namespace
}  // namespace hgca::kernels::cuda

int main(int argc, char** argv) {
  try {
    return hgca::kernels::cuda::run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hgca_cuda_bench: %s\n", e.what());
    return 1;
  }
}
